/**
 * The small interface every barcode/QR scanner driver offers, whatever its wire: a connection
 * state, scans, and the input it had to throw away. Defined here until the lead engineer moves it
 * next to the other ports.
 */
import type { KioskError } from '../../app/common/errors.js';
import type { Logger } from '../../app/core/log.js';
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

/** What a driver makes of its input: a code read, or input it had to throw away. */
export type ScanResult = { kind: 'scan'; scan: ScannerScan } | { kind: 'error'; error: KioskError };

/**
 * A scanner driver's subscribers: each code and each run of dropped input reaches them, and the
 * log, through here. `unit` names what the driver drops in the log, e.g. `line` or `report`.
 */
export class ScanListeners {
  private readonly scans = new Set<ScanListener>();
  private readonly errors = new Set<ScanErrorListener>();

  constructor(
    private readonly log: Logger,
    private readonly unit: string,
  ) {}

  /** How many subscribers there are, so tests can prove that reconnects do not pile them up. */
  get counts(): { scan: number; error: number } {
    return { scan: this.scans.size, error: this.errors.size };
  }

  /** Calls `listener` with each code read; returns the unsubscribe. */
  onScan(listener: ScanListener): () => void {
    return subscribe(this.scans, listener);
  }

  /** Calls `listener` with each run of input thrown away; returns the unsubscribe. */
  onError(listener: ScanErrorListener): () => void {
    return subscribe(this.errors, listener);
  }

  /** Hands each result to its subscribers; one that throws is logged and cannot starve the rest. */
  deliver(results: readonly ScanResult[]): void {
    for (const result of results) {
      if (result.kind === 'scan') this.emitScan(result.scan);
      else this.emitError(result.error);
    }
  }

  private emitScan(scan: ScannerScan): void {
    // The text may be a pass or personal data: only its size and charset reach the log.
    this.log.info({ bytes: scan.bytes.length, charset: scan.charset }, 'scan: code read');
    notifyAll(this.scans, scan, (error) =>
      this.log.error({ err: error }, 'scan: a listener threw'),
    );
  }

  private emitError(error: KioskError): void {
    const unit = this.unit;
    this.log.warn({ code: error.code, reason: error.message }, `${unit}: input dropped`);
    notifyAll(this.errors, error, (thrown) =>
      this.log.error({ err: thrown }, `${unit}: an error listener threw`),
    );
  }
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
