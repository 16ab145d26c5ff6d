/**
 * The intercom server's version, as its package.json names it; the health check reports it so
 * monitoring can tell which release answers.
 */
import { join } from 'node:path';
import { readPackageVersion } from '../app/core/package-version.js';
import { checkoutDir } from './console-files.js';

/** The package version, or `unknown` when package.json cannot be read (a bare copy of dist). */
export function serverVersion(): string {
  return readPackageVersion(join(checkoutDir(), 'package.json'));
}
