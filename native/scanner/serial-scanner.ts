/**
 * Driver for barcode/QR scanners on a serial or USB-serial port (default 9600 8N1). Each code
 * ends with the configured suffix; LineSplitter cuts the stream into codes.
 *
 * serialport does not always report an unplug (a hung-up terminal can stay silent), so while the
 * port is open the driver also checks every `reconnectIntervalMs` that the device node behind
 * the path is still the one it opened, and while it is closed it tries to reopen it as often.
 */
import { SerialPort } from 'serialport';
import { KioskError, hasCode } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import type { DeviceState } from '../../app/core/ports.js';
import { DeviceStateHolder, RetryTimer, type StateListener } from '../device-state.js';
import { deviceChanged, deviceIdentity } from '../relay/device-node.js';
import { LineSplitter, type LineResult, type ScanSuffix } from './line-splitter.js';
import { maxScanBytes, type ScannerScan } from '../../app/common/scanner-scan.js';
import {
  notifyAll,
  subscribe,
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
  /** A part-code left this long before more bytes come is dropped. Default 1000. */
  gapMs?: number;
  /** How often to try reopening a lost port, and to check that an open one is still there. */
  reconnectIntervalMs?: number;
}

type ResolvedOptions = Required<SerialScannerOptions>;

/** A serial barcode/QR scanner as a Scanner. */
export class SerialScanner implements Scanner {
  readonly source = 'serial';
  private port: SerialPort | undefined;
  private portIdentity: string | undefined;
  private closed = true;
  private connecting = false;
  private readonly scanListeners = new Set<ScanListener>();
  private readonly errorListeners = new Set<ScanErrorListener>();
  private readonly options: ResolvedOptions;
  private readonly splitter: LineSplitter;
  private readonly status: DeviceStateHolder;
  private readonly ticker: RetryTimer;

  constructor(options: SerialScannerOptions) {
    this.options = validate(options);
    const { suffix, maxLineBytes, gapMs } = this.options;
    this.splitter = new LineSplitter({ suffix, maxLineBytes, gapMs });
    this.status = new DeviceStateHolder(log, { port: this.options.port });
    this.ticker = new RetryTimer(this.options.reconnectIntervalMs, () => this.tick(), log);
  }

  /** `connected` while the port is open and being read. */
  get state(): DeviceState {
    return this.status.state;
  }

  /**
   * Opens the port. When the scanner is absent it rejects with `disconnected` but keeps trying
   * until close(): a kiosk that boots without its scanner gains it when it is plugged in.
   */
  async open(): Promise<void> {
    if (!this.closed) return;

    this.closed = false;
    this.ticker.start();
    this.status.set('connecting');

    const error = await this.tryConnect();
    if (error) throw error;
  }

  onScan(listener: ScanListener): () => void {
    return subscribe(this.scanListeners, listener);
  }

  onError(listener: ScanErrorListener): () => void {
    return subscribe(this.errorListeners, listener);
  }

  onStateChange(listener: StateListener): () => void {
    return this.status.subscribe(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;

    this.closed = true;
    this.ticker.stop();
    const port = this.port;
    this.forget();
    if (port) await closePort(port);

    this.status.set('disconnected');
  }

  /** Listener counts, so tests can prove that reconnects do not pile listeners up. */
  listenerCounts(): { scan: number; error: number; state: number; port: number } {
    const port = this.port;
    const onPort = port
      ? ['data', 'error', 'close'].reduce((sum, event) => sum + port.listenerCount(event), 0)
      : 0;
    return {
      scan: this.scanListeners.size,
      error: this.errorListeners.size,
      state: this.status.listenerCount,
      port: onPort,
    };
  }

  private async tick(): Promise<void> {
    if (this.closed || this.connecting) return;

    if (this.port) await this.checkPresence(this.port);
    else await this.tryConnect();
  }

  /** One attempt to open the port; returns the error instead of throwing. */
  private async tryConnect(): Promise<KioskError | undefined> {
    this.connecting = true;
    try {
      await this.connect();
      return undefined;
    } catch (cause) {
      const error = connectError(cause, this.options.port);
      if (!this.port && !this.closed)
        this.status.set(hasCode(error, 'port_busy') ? 'error' : 'disconnected', error);
      return error;
    } finally {
      this.connecting = false;
    }
  }

  private async connect(): Promise<void> {
    const port = await openPort(this.options);
    if (this.closed) {
      await closePort(port);
      throw new KioskError('disconnected', 'scanner closed while its port was opening');
    }

    this.attach(port);
    this.portIdentity = await deviceIdentity(this.options.port);
    if (this.port !== port) throw new KioskError('disconnected', 'scanner port lost while opening');

    this.status.set('connected');
  }

  private attach(port: SerialPort): void {
    this.port = port;
    this.splitter.reset();
    port.on('data', (chunk: Buffer) => this.onData(port, chunk));
    port.on('error', (error: Error) => this.lost(port, error));
    port.on('close', (error?: Error) => this.lost(port, error ?? new Error('port closed')));
  }

  private onData(port: SerialPort, chunk: Buffer): void {
    if (port !== this.port) return;

    this.deliver(this.splitter.push(chunk, performance.now()));
  }

  private deliver(results: readonly LineResult[]): void {
    for (const result of results) {
      if (result.kind === 'scan') this.emitScan(result.scan);
      else this.emitError(result.error);
    }
  }

  private emitScan(scan: ScannerScan): void {
    // The text may be a pass or personal data: only its size and charset reach the log.
    log.info({ bytes: scan.bytes.length, charset: scan.charset }, 'scan: code read');
    notifyAll(this.scanListeners, scan, (error) =>
      log.error({ err: error }, 'scan: a listener threw'),
    );
  }

  private emitError(error: KioskError): void {
    log.warn({ code: error.code, reason: error.message }, 'line: input dropped');
    notifyAll(this.errorListeners, error, (thrown) =>
      log.error({ err: thrown }, 'line: an error listener threw'),
    );
  }

  /** A vanished or replaced device node proves an unplug the port did not report. */
  private async checkPresence(port: SerialPort): Promise<void> {
    const now = await deviceIdentity(this.options.port);
    if (port !== this.port || !deviceChanged(this.portIdentity, now)) return;

    this.lost(port, new Error(now === 'missing' ? 'device node vanished' : 'device node replaced'));
  }

  private lost(port: SerialPort, cause: Error): void {
    if (port !== this.port) return;

    this.forget();
    void closePort(port);
    if (this.closed) return;

    const message = `scanner port ${this.options.port} lost: ${cause.message}`;
    this.status.set('disconnected', new KioskError('disconnected', message, { cause }));
  }

  private forget(): void {
    this.port = undefined;
    this.portIdentity = undefined;
    this.splitter.reset();
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

function openPort(options: ResolvedOptions): Promise<SerialPort> {
  const { port: path, baudRate, dataBits, parity, stopBits } = options;
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, dataBits, parity, stopBits, autoOpen: false });
    port.open((error) => (error ? reject(error) : resolve(port)));
  });
}

function closePort(port: SerialPort): Promise<void> {
  if (!port.isOpen) return Promise.resolve();

  return new Promise((resolve) => port.close(() => resolve()));
}

function connectError(cause: unknown, path: string): KioskError {
  if (cause instanceof KioskError) return cause;

  const message = cause instanceof Error ? cause.message : String(cause);
  // Another process holding the port is a setup fault for a technician, not an unplug.
  const busy = /busy|lock|temporarily unavailable/i.test(message);
  return new KioskError(
    busy ? 'port_busy' : 'disconnected',
    `cannot open scanner port ${path}: ${message}`,
    { cause },
  );
}
