/**
 * Driver for barcode/QR scanners on a serial or USB-serial port (default 9600 8N1). Each code
 * ends with the configured suffix; LineSplitter cuts the stream into codes.
 *
 * serialport does not always report an unplug (a hung-up terminal can stay silent), so while the
 * port is open the driver also checks every `reconnectIntervalMs` that the device node behind
 * the path is still the one it opened, and while it is closed it tries to reopen it as often.
 */
import { KioskError } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import type { DeviceState } from '../../app/core/ports.js';
import type { StateListener } from '../device-state.js';
import { SerialConnection } from '../serial-connection.js';
import { LineSplitter, type ScanSuffix } from './line-splitter.js';
import { maxScanBytes } from '../../app/common/scanner-scan.js';
import {
  ScanListeners,
  type ScanErrorListener,
  type ScanListener,
  type Scanner,
} from './scanner.js';

const log = moduleLogger('scanner.serial');

/** How to reach the scanner and how it ends its codes. */
export interface SerialScannerOptions {
  /** Serial port path, e.g. /dev/ttyUSB0 or COM3. */
  port: string;
  /** Default 9600. */
  baudRate?: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
  /** What the scanner sends after each code. Default CR. */
  suffix?: ScanSuffix;
  /** Longest code accepted, in bytes; a longer line is dropped. Default 8192. */
  maxLineBytes?: number;
  /** A part-code left this long without more bytes is dropped, as a `timeout`. Default 1000. */
  gapMs?: number;
  /** How often to try reopening a lost port, and to check that an open one is still there. */
  reconnectIntervalMs?: number;
}

type ResolvedOptions = Required<SerialScannerOptions>;

/** A serial barcode/QR scanner as a Scanner. */
export class SerialScanner implements Scanner {
  readonly source = 'serial';
  private readonly listeners = new ScanListeners(log, 'line');
  private readonly options: ResolvedOptions;
  private readonly splitter: LineSplitter;
  private readonly connection: SerialConnection;
  private gapTimer: NodeJS.Timeout | undefined;

  constructor(options: SerialScannerOptions) {
    this.options = validate(options);
    const { suffix, maxLineBytes, gapMs } = this.options;
    this.splitter = new LineSplitter({ suffix, maxLineBytes, gapMs });
    const { port, baudRate, dataBits, parity, stopBits, reconnectIntervalMs } = this.options;
    const line = { path: port, baudRate, dataBits, parity, stopBits };
    this.connection = new SerialConnection(
      { ...line, reconnectIntervalMs, name: 'scanner', device: { port } },
      log,
      {
        data: (chunk) => this.receive(chunk),
        reset: () => {
          this.stopGapTimer();
          this.splitter.reset();
        },
      },
    );
  }

  /** `connected` while the port is open and being read. */
  get state(): DeviceState {
    return this.connection.state;
  }

  /**
   * Opens the port. When the scanner is absent it rejects with `disconnected` but keeps trying
   * until close(): a kiosk that boots without its scanner gains it when it is plugged in.
   */
  open(): Promise<void> {
    return this.connection.open();
  }

  onScan(listener: ScanListener): () => void {
    return this.listeners.onScan(listener);
  }

  onError(listener: ScanErrorListener): () => void {
    return this.listeners.onError(listener);
  }

  onStateChange(listener: StateListener): () => void {
    return this.connection.onStateChange(listener);
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /** Listener counts, so tests can prove that reconnects do not pile listeners up. */
  listenerCounts(): { scan: number; error: number; state: number; port: number } {
    const { state, port } = this.connection.listenerCounts();
    return { ...this.listeners.counts, state, port };
  }

  private receive(chunk: Buffer): void {
    this.listeners.deliver(this.splitter.push(chunk, performance.now()));
    this.armGapTimer();
  }

  /**
   * While a part-line waits for its suffix, a timer drops it once no byte has followed for the
   * gap: a scanner set to another suffix then shows at its first scan, not at the next one.
   */
  private armGapTimer(): void {
    this.stopGapTimer();
    if (!this.splitter.pending) return;

    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      this.listeners.deliver(this.splitter.expire(performance.now()));
      this.armGapTimer();
    }, this.options.gapMs);
    // Left referenced: it lives a gap at most, and so leak tests can see one left behind.
  }

  private stopGapTimer(): void {
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }
}

function validate(options: SerialScannerOptions): ResolvedOptions {
  const reconnectIntervalMs = options.reconnectIntervalMs ?? 1_000;
  if (!(reconnectIntervalMs > 0))
    throw new KioskError('config_invalid', 'reconnectIntervalMs must be positive');

  return {
    port: options.port,
    baudRate: options.baudRate ?? 9600,
    dataBits: options.dataBits ?? 8,
    parity: options.parity ?? 'none',
    stopBits: options.stopBits ?? 1,
    suffix: options.suffix ?? 'CR',
    maxLineBytes: options.maxLineBytes ?? maxScanBytes,
    gapMs: options.gapMs ?? 1_000,
    reconnectIntervalMs,
  };
}
