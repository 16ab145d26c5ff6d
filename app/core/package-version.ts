/**
 * The software's version as its package.json names it. Kiosk and server are one package: the
 * kiosk sends the version in its hello, the server reports it on its health check.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { moduleLogger } from './log.js';

const log = moduleLogger('version');

/** The version in the package.json at `file`, or `unknown` when it cannot be read. */
export function readPackageVersion(file: string): string {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
    if (typeof parsed.version === 'string') return parsed.version;
  } catch (error) {
    log.warn({ file, reason: (error as Error).message }, 'version: package.json unreadable');
  }
  return 'unknown';
}

/**
 * The version of the package this module belongs to: the nearest package.json above it, which is
 * the checkout's from the sources or dist/, and the archive's own in a packaged kiosk.
 */
export function packageVersion(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) return 'unknown';
    folder = parent;
  }
  return readPackageVersion(join(folder, 'package.json'));
}
