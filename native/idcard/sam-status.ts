/** What a reader's SW3 status means, and the KioskError the kiosk raises for a failing one. */
import { KioskError, type ErrorCode } from '../../app/common/errors.js';

const statuses: Record<number, readonly [meaning: string, code: ErrorCode]> = {
  0x90: ['success', 'card_read_failed'],
  0x9f: ['card found', 'card_read_failed'],
  0x80: ['no card', 'card_read_failed'],
  0x81: ['select failed', 'card_read_failed'],
  0x41: ['read failed', 'card_read_failed'],
  0x40: ['unknown card type', 'unknown_card_type'],
  0x91: ['no such content', 'card_read_failed'],
  0x10: ['checksum error in the command', 'checksum'],
  0x11: ['length error in the command', 'bad_frame'],
  0x21: ['bad command', 'bad_frame'],
  0x23: ['command not allowed', 'card_read_failed'],
  0x24: ['unknown error', 'card_read_failed'],
  0x31: ['card authentication failed', 'card_read_failed'],
  0x32: ['SAM authentication failed', 'card_read_failed'],
  0x33: ['information check failed', 'card_read_failed'],
  0x47: ['random number failed', 'card_read_failed'],
  0x60: ['SAM self-test failed', 'card_read_failed'],
  0x66: ['SAM not authorised', 'card_read_failed'],
};

/** The status as HARDWARE.md names it, e.g. `80 (no card)`. */
export function describeStatus(status: number): string {
  const hex = status.toString(16).padStart(2, '0').toUpperCase();
  return `${hex} (${statuses[status]?.[0] ?? 'undocumented'})`;
}

/** The error for a status that is not the success `operation` expected. */
export function statusError(status: number, operation: string): KioskError {
  const code = statuses[status]?.[1] ?? 'card_read_failed';
  return new KioskError(
    code,
    `ID card ${operation}: reader answered status ${describeStatus(status)}`,
  );
}
