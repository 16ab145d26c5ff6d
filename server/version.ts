/**
 * The intercom server's version, as its package.json names it; the health check reports it so
 * monitoring can tell which release answers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { moduleLogger } from '../app/core/log.js';
import { checkoutDir } from './console-files.js';

const log = moduleLogger('version');

/** The package version, or `unknown` when package.json cannot be read (a bare copy of dist). */
export function serverVersion(): string {
  const file = join(checkoutDir(), 'package.json');
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
    if (typeof parsed.version === 'string') return parsed.version;
  } catch (error) {
    log.warn({ file, reason: (error as Error).message }, 'version: package.json unreadable');
  }
  return 'unknown';
}
