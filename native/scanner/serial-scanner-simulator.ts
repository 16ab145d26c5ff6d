/**
 * Plays a serial barcode scanner on the device end of a pseudo-terminal pair: it sends codes with
 * their suffix, whole or in chunks, at the real line speed when asked (a pty moves bytes at once
 * whatever the baud rate), sends damaged codes, records what the host sent it, and reopens its
 * port by itself after the pair is unplugged and plugged back in.
 */
import { stat } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { KioskError } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import { deviceChanged, deviceIdentity } from '../relay/device-node.js';
import { suffixBytes, type ScanSuffix } from './line-splitter.js';

const log = moduleLogger('scanner.simulator');

// 8N1: a start bit, eight data bits and a stop bit per byte.
const bitsPerByte = 10;

/** Bytes that crossed the wire, with Date.now() when they did. */
export interface WireRecord {
  at: number;
  bytes: Uint8Array;
}

/** How one code is sent. */
export interface SimulatedScanOptions {
  /** The suffix after the code; `null` sends none. Default: the simulator's own. */
  suffix?: ScanSuffix | null;
  /** Split the bytes (code and suffix) into this many chunks. Default 1. */
  chunks?: number;
  /** Wait this long between chunks. Default 0. */
  chunkDelayMs?: number;
  /** Take as long as the bytes would take on a real line at the simulator's baud rate. */
  paced?: boolean;
  /** `flip`: one payload bit is wrong; `no-suffix`: the suffix is lost. */
  corrupt?: 'flip' | 'no-suffix';
}

/** How the simulated scanner is built. */
export interface SerialScannerSimulatorOptions {
  baudRate?: number;
  /** The suffix the scanner is set to send. Default CR. */
  suffix?: ScanSuffix;
  /** Reopen by itself when the pair is replugged. Default true. */
  autoReopen?: boolean;
  /** How often to look for the port while waiting for it to (re)appear. Default 10. */
  pollIntervalMs?: number;
  /** How long open() waits for the port to appear. Default 5000. */
  openTimeoutMs?: number;
  /** Records kept; older ones are dropped so a long run stays small. Default 10000. */
  maxRecorded?: number;
}

/** A simulated serial scanner on a port path, usually a PtyPair's `b`. */
export class SerialScannerSimulator {
  private port: SerialPort | undefined;
  private watcher: NodeJS.Timeout | undefined;
  private closed = false;
  private reopening: Promise<void> | undefined;
  private receivedRecords: WireRecord[] = [];
  private sentRecords: WireRecord[] = [];
  private readonly receiveListeners = new Set<(record: WireRecord) => void>();
  private readonly openListeners = new Set<() => void>();
  private readonly pendingWrites = new Set<() => void>();
  private readonly options: Required<SerialScannerSimulatorOptions>;

  /** Opens a simulator on `path`, waiting for the path to appear if need be. */
  static async open(
    path: string,
    options: SerialScannerSimulatorOptions = {},
  ): Promise<SerialScannerSimulator> {
    const simulator = new SerialScannerSimulator(path, options);
    await simulator.open();
    return simulator;
  }

  constructor(
    readonly path: string,
    options: SerialScannerSimulatorOptions = {},
  ) {
    this.options = {
      baudRate: options.baudRate ?? 9600,
      suffix: options.suffix ?? 'CR',
      autoReopen: options.autoReopen ?? true,
      pollIntervalMs: options.pollIntervalMs ?? 10,
      openTimeoutMs: options.openTimeoutMs ?? 5_000,
      maxRecorded: options.maxRecorded ?? 10_000,
    };
  }

  /** True while the scanner's port is open. */
  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  /** Opens the port once it exists; rejects with `timeout` if it does not appear in time. */
  async open(): Promise<void> {
    this.closed = false;
    await this.openWhenPresent(Date.now() + this.options.openTimeoutMs);
  }

  /** Closes the port and stops reopening. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watcher);
    this.failPendingWrites();
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await this.reopening?.catch(() => undefined);
  }

  /** Sends one code (text as UTF-8, or exact bytes) with its suffix; resolves once written. */
  async scan(payload: string | Uint8Array, options: SimulatedScanOptions = {}): Promise<void> {
    const code = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
    const bytes = this.frame(code, options);
    await this.sendInChunks(bytes, options);
  }

  /** Sends these exact bytes, e.g. noise; paced at the baud rate when asked. */
  async sendRaw(bytes: Uint8Array, options: { paced?: boolean } = {}): Promise<void> {
    await this.sendInChunks(bytes, { paced: options.paced ?? false });
  }

  /** Every run of bytes the host sent, since the last clear(), oldest first. */
  received(): WireRecord[] {
    return [...this.receivedRecords];
  }

  /** Every run of bytes written to the host, since the last clear(). */
  sent(): WireRecord[] {
    return [...this.sentRecords];
  }

  /** Forgets the records. */
  clear(): void {
    this.receivedRecords = [];
    this.sentRecords = [];
  }

  /** Calls `listener` with each run of bytes the host sent; returns the unsubscribe. */
  onReceived(listener: (record: WireRecord) => void): () => void {
    this.receiveListeners.add(listener);
    return () => {
      this.receiveListeners.delete(listener);
    };
  }

  /** Resolves the next time the port is (re)opened, or at once while it is open. */
  whenOpen(timeoutMs = 5_000): Promise<void> {
    if (this.isOpen) return Promise.resolve();

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.openListeners.delete(opened);
        reject(new KioskError('timeout', `simulated scanner ${this.path} did not reopen`));
      }, timeoutMs);
      const opened = (): void => {
        clearTimeout(timer);
        this.openListeners.delete(opened);
        resolve();
      };
      this.openListeners.add(opened);
    });
  }

  /** Listener counts, so tests can prove that reopening does not pile listeners up. */
  listenerCounts(): { received: number; port: number } {
    const port = this.port;
    const onPort = port
      ? ['data', 'error', 'close'].reduce((sum, event) => sum + port.listenerCount(event), 0)
      : 0;
    return { received: this.receiveListeners.size, port: onPort };
  }

  private frame(code: Uint8Array, options: SimulatedScanOptions): Uint8Array {
    const suffixName = options.suffix === undefined ? this.options.suffix : options.suffix;
    const dropSuffix = suffixName === null || options.corrupt === 'no-suffix';
    const suffix = dropSuffix ? [] : suffixBytes[suffixName];
    const bytes = Uint8Array.from([...code, ...suffix]);
    // The low bit of a middle byte: a letter or digit turns into its neighbour, as line noise
    // would; a printable byte never turns into a suffix byte this way.
    if (options.corrupt === 'flip' && code.length > 0) bytes[Math.floor(code.length / 2)] ^= 0x01;
    return bytes;
  }

  private async sendInChunks(bytes: Uint8Array, options: SimulatedScanOptions): Promise<void> {
    const parts = splitInto(bytes, options.chunks ?? 1);
    const started = performance.now();
    let sentBytes = 0;
    for (const [index, part] of parts.entries()) {
      if (index > 0 && options.chunkDelayMs) await sleep(options.chunkDelayMs);
      if (options.paced) await sleep(started + this.lineTimeMs(sentBytes) - performance.now());

      await this.write(part);
      sentBytes += part.length;
    }

    if (options.paced) await sleep(started + this.lineTimeMs(sentBytes) - performance.now());
  }

  /** How long `bytes` bytes take on a real line at the configured baud rate. */
  private lineTimeMs(bytes: number): number {
    return (bytes * bitsPerByte * 1_000) / this.options.baudRate;
  }

  /**
   * Writes without draining: a pty moves bytes at once, and tcdrain on a pty whose far end has
   * gone can block a libuv worker for good. A write pending when the port is lost fails.
   */
  private async write(bytes: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port?.isOpen)
      throw new KioskError('disconnected', `simulated scanner ${this.path} is not open`);

    await new Promise<void>((resolve, reject) => {
      const lost = (): void => reject(new KioskError('disconnected', 'unplugged while writing'));
      this.pendingWrites.add(lost);
      port.write(Buffer.from(bytes), (error) => {
        this.pendingWrites.delete(lost);
        if (error) reject(error);
        else resolve();
      });
    });
    this.record(this.sentRecords, { at: Date.now(), bytes });
  }

  private async openWhenPresent(deadline: number): Promise<void> {
    while (!this.closed) {
      const port = await this.tryOpen();
      if (port) return this.attach(port);

      if (Date.now() > deadline)
        throw new KioskError('timeout', `simulated scanner port ${this.path} did not appear`);

      await sleep(this.options.pollIntervalMs);
    }
  }

  private async tryOpen(): Promise<SerialPort | undefined> {
    const present = await stat(this.path).then(
      () => true,
      () => false,
    );
    if (!present) return undefined;

    return new Promise((resolve) => {
      const { baudRate } = this.options;
      const port = new SerialPort({ path: this.path, baudRate, autoOpen: false });
      port.open((error) => resolve(error ? undefined : port));
    });
  }

  private attach(port: SerialPort): void {
    if (this.closed) {
      port.close();
      return;
    }

    this.port = port;
    port.on('data', (chunk: Buffer) => this.receive(chunk));
    port.on('error', (error: Error) => this.lost(port, error));
    port.on('close', () => this.lost(port));
    void this.watch(port);
    log.info({ path: this.path }, 'open: scanner listening');
    for (const listener of [...this.openListeners]) listener();
  }

  /** The far end hanging up is not always reported on this end: look at the path as well. */
  private async watch(port: SerialPort): Promise<void> {
    const openedAs = await deviceIdentity(this.path);
    if (port !== this.port) return;

    this.watcher = setInterval(() => {
      void deviceIdentity(this.path).then((now) => {
        if (deviceChanged(openedAs, now))
          this.lost(port, new Error('device node gone or replaced'));
      });
    }, this.options.pollIntervalMs);
    this.watcher.unref();
  }

  private lost(port: SerialPort, error?: Error): void {
    if (port !== this.port) return;

    this.port = undefined;
    clearInterval(this.watcher);
    this.failPendingWrites();
    if (port.isOpen) port.close();
    log.info({ path: this.path, err: error?.message }, 'close: scanner unplugged');
    if (this.closed || !this.options.autoReopen) return;

    // A replug may take long: only close() ends the search.
    this.reopening = this.openWhenPresent(Number.POSITIVE_INFINITY).finally(() => {
      this.reopening = undefined;
    });
  }

  private failPendingWrites(): void {
    for (const fail of [...this.pendingWrites]) fail();
    this.pendingWrites.clear();
  }

  private receive(chunk: Buffer): void {
    const record = { at: Date.now(), bytes: Uint8Array.from(chunk) };
    this.record(this.receivedRecords, record);
    for (const listener of [...this.receiveListeners]) listener(record);
  }

  private record(records: WireRecord[], record: WireRecord): void {
    records.push(record);
    if (records.length > this.options.maxRecorded) records.shift();
  }
}

/** Splits `bytes` into `count` nearly equal, non-empty parts (fewer when there are few bytes). */
export function splitInto(bytes: Uint8Array, count: number): Uint8Array[] {
  const parts = Math.max(1, Math.min(Math.floor(count), bytes.length));
  const size = Math.ceil(bytes.length / parts);
  const result: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; start += size)
    result.push(bytes.subarray(start, start + size));
  return result.length > 0 ? result : [bytes];
}

function sleep(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();

  return new Promise((resolve) => setTimeout(resolve, ms));
}
