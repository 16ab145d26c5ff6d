/**
 * Runs once before the end-to-end tests and stops them at once, with the fix in the message, when
 * something they all need is missing: a clear line now beats sixty-second timeouts later.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromiumPath } from './support/browser.js';
import { consoleIndex, hostCli, intercomCli, rendererIndex, repoRoot } from './support/paths.js';

/** Lists what the end-to-end tests need but this machine lacks, with how to fix each. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (!existsSync(chromiumPath))
    missing.push(`${chromiumPath} (apt-get install chromium, or set KIOSK_CHROMIUM)`);
  if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status !== 0)
    missing.push('socat (apt-get install socat)');
  for (const built of [hostCli, rendererIndex, intercomCli, consoleIndex]) {
    if (!existsSync(built))
      missing.push(`${path.relative(repoRoot, built)} (run \`npm run build\` first)`);
  }
  return missing;
}

export default function globalSetup(): void {
  const missing = missingPrerequisites();
  if (missing.length > 0)
    throw new Error(`End-to-end tests cannot start; missing:\n  ${missing.join('\n  ')}`);
}
