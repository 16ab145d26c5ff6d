/**
 * The small interface every barcode/QR scanner driver offers, whatever its wire: a connection
 * state, scans, and the input it had to throw away. Defined here until the lead engineer moves it
 * next to the other ports.
 */
import type { KioskError } from '../../app/common/errors.js';
import type { DeviceState } from '../../app/core/ports.js';
import type { ScannerScan, ScannerSource } from '../../app/common/scanner-scan.js';

/** Called with each code read. */
export type ScanListener = (scan: ScannerScan) => void;

/** Called with each piece of input a driver threw away (bad_frame, timeout, bad_payload). */
export type ScanErrorListener = (error: KioskError) => void;

/** A barcode/QR scanner. It reports codes and its connection, and reconnects by itself. */
export interface Scanner {
  /** The kind of scanner, also the `source` of its scans. */
  readonly source: ScannerSource;
  readonly state: DeviceState;
  /** Opens the device; rejects `disconnected` when absent but keeps looking until close(). */
  open(): Promise<void>;
  /** Calls `listener` with each code read; returns the unsubscribe. */
  onScan(listener: ScanListener): () => void;
  /** Calls `listener` with each run of input thrown away; returns the unsubscribe. */
  onError(listener: ScanErrorListener): () => void;
  /** Every state change, with the error that caused a disconnect; returns the unsubscribe. */
  onStateChange(listener: (state: DeviceState, error?: Error) => void): () => void;
  /** Stops reading and reconnecting; safe while a read is pending and when called twice. */
  close(): Promise<void>;
}

/** Calls every listener with `value`; one that throws cannot starve the rest. */
export function notifyAll<T>(
  listeners: ReadonlySet<(value: T) => void>,
  value: T,
  onThrow: (error: unknown) => void,
): void {
  for (const listener of [...listeners]) {
    try {
      listener(value);
    } catch (error) {
      onThrow(error);
    }
  }
}

/** Adds `listener` to `listeners`; returns the unsubscribe. */
export function subscribe<T>(listeners: Set<T>, listener: T): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}
