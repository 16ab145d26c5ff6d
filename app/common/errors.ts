/** Stable error codes: code branches on these, the screen translates them, logs carry them. */
export const errorCodes = [
  'config_invalid',
  'config_unreadable',
  'disconnected',
  'timeout',
  'checksum',
  'bad_frame',
  'oversized',
  'unknown_card_type',
  'card_invalid',
  'card_read_failed',
  'port_busy',
  'unauthorised',
  'forbidden',
  'throttled',
  'conflict',
  'bad_payload',
  'store_failed',
  'decode_failed',
  'not_found',
  'internal',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** An error any part of the kiosk can raise and any other part can branch on by its code. */
export class KioskError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KioskError';
    this.code = code;
  }
}

/** True when `error` is a KioskError carrying `code`. */
export function hasCode(error: unknown, code: ErrorCode): error is KioskError {
  return error instanceof KioskError && error.code === code;
}

/** Compile-time check that a switch handled every case. */
export function assertNever(value: never, what = 'value'): never {
  throw new KioskError('internal', `Unexpected ${what}: ${JSON.stringify(value)}`);
}
