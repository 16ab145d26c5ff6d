/**
 * The kiosk's view of an ID card reader, whatever its make: cards as they are placed, errors
 * worth showing, and the connection. (To move to app/core/ports.ts beside the other devices.)
 */
import type { KioskError } from '../../app/common/errors.js';
import type { DeviceState } from '../../app/core/ports.js';
import type { IdCardRead } from './id-record.js';

/** An ID card reader. It polls by itself while open and reconnects when its port returns. */
export interface IdCardReader {
  readonly state: DeviceState;
  /** Opens the port; an absent reader rejects `disconnected` but is looked for until close(). */
  open(): Promise<void>;
  /** Stops polling and closes the port; a read in progress is abandoned. */
  close(): Promise<void>;
  /** Calls `listener` once per placement of a card that was read; returns the unsubscribe. */
  onCard(listener: (read: IdCardRead) => void): () => void;
  /**
   * Calls `listener` with each failed read (timeout, checksum, unknown_card_type, card_invalid,
   * card_read_failed …); losing the port is a state change instead. Returns the unsubscribe.
   */
  onError(listener: (error: KioskError) => void): () => void;
  /** Every state change, with the error that caused a disconnect; returns the unsubscribe. */
  onStateChange(listener: (state: DeviceState, error?: Error) => void): () => void;
}
