/**
 * Which device a serial port path leads to right now. An unplug is not always reported by the
 * port (a hung-up terminal can stay silent), and the path may already lead to a new device by the
 * time anyone looks: comparing identities catches both.
 */
import { stat } from 'node:fs/promises';

/**
 * `dev:ino:rdev` of the node `path` resolves to, `missing` when there is none, or undefined where
 * ports are not files (Windows COM ports), so callers skip the check there.
 */
export async function deviceIdentity(path: string): Promise<string | undefined> {
  if (!path.startsWith('/')) return undefined;

  try {
    const node = await stat(path);
    return `${node.dev}:${node.ino}:${node.rdev}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    // Anything else (permissions, a flaky file system) proves nothing either way.
    return undefined;
  }
}

/** True when `now` shows that the node behind an open port has gone or been replaced. */
export function deviceChanged(openedAs: string | undefined, now: string | undefined): boolean {
  return openedAs !== undefined && now !== undefined && now !== openedAs;
}
