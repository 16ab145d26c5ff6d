/**
 * Turns a failure into the translation key of what the guard reads: a sentence for every code the
 * server can send, never the code or a stack.
 */
import { errorCodes, KioskError } from '../../app/common/errors.js';
import { ApiError } from './api.js';
import type { TranslationKey } from './i18n/index.js';

/** Codes only the intercom server's HTTP API sends, beside the shared error codes. */
export const serverOnlyErrorCodes = ['not_configured'] as const;

const translated: readonly string[] = [...errorCodes, ...serverOnlyErrorCodes];

/** The key of the message for `code`; unknown codes get the general message. */
export function errorMessageKey(code: string): TranslationKey {
  return translated.includes(code) ? (`errors.${code}` as TranslationKey) : 'errors.generic';
}

/** The code a failure carries: the server's own for API errors, `internal` when it has none. */
export function errorCodeOf(error: unknown): string {
  if (error instanceof ApiError) return error.serverCode;
  if (error instanceof KioskError) return error.code;

  return 'internal';
}
