/** Where end-to-end tests keep their screenshots, so a person can look at every screen after a run. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';

/** The folder screenshots go to: test-results/screens, beside Playwright's own output. */
export const screensDir = path.join(repoRoot, 'test-results', 'screens');

/** The file for screenshot `name` (letters, digits, dot, dash, underscore); creates the folder. */
export function screenshotPath(name: string): string {
  if (!/^[\w.-]+$/.test(name))
    throw new Error(`screenshot name ${JSON.stringify(name)} is not a plain file name`);

  mkdirSync(screensDir, { recursive: true });
  return path.join(screensDir, `${name}.png`);
}
