/**
 * Turns an error code into the sentence a visitor reads. Visitors never see technical codes or
 * stacks: connection trouble, slowness and camera trouble each get their own message, anything
 * else a general one.
 */
import { errorCodes } from '../common/errors.js';

export type ErrorMessageKey =
  'errors.disconnected' | 'errors.timeout' | 'errors.camera' | 'errors.generic';

// The scanner reports its own codes and the browser's DOMException names (NotAllowedError...).
const cameraCode = /camera|notallowed|notfound|notreadable|overconstrained|permission|media/i;

/** The translation key for the message shown for `code`. */
export function errorMessageKey(code: string): ErrorMessageKey {
  if (code === 'disconnected') return 'errors.disconnected';
  if (code === 'timeout') return 'errors.timeout';
  if (cameraCode.test(code)) return 'errors.camera';

  return 'errors.generic';
}

/** The code carried by an error from the bridge or the scanner, `internal` when it has none. */
export function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, name } = error as { code?: unknown; name?: unknown };
    if (typeof code === 'string') return code;
    if (typeof name === 'string' && name !== 'Error') return name;

    // Electron's context bridge rebuilds errors from their message; the preload puts the code first.
    const { message } = error as { message?: unknown };
    const leading = typeof message === 'string' ? /^([a-z_]+): /.exec(message)?.[1] : undefined;
    if (leading && (errorCodes as readonly string[]).includes(leading)) return leading;
  }

  return 'internal';
}
