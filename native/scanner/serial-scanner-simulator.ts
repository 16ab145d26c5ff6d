/**
 * Plays a serial barcode scanner on the device end of a pseudo-terminal pair: it sends codes with
 * their suffix, whole or in chunks, at the real line speed when asked (a pty moves bytes at once
 * whatever the baud rate), sends damaged codes, records what the host sent it, and reopens its
 * port by itself after the pair is unplugged and plugged back in.
 */
import { moduleLogger } from '../../app/core/log.js';
import {
  PortSimulator,
  Recording,
  simulatorDefaults,
  type SimulatorOptions,
} from '../testing/simulator-port.js';
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
export interface SerialScannerSimulatorOptions extends SimulatorOptions {
  /** The suffix the scanner is set to send. Default CR. */
  suffix?: ScanSuffix;
}

/** A simulated serial scanner on a port path, usually a PtyPair's `b`. */
export class SerialScannerSimulator extends PortSimulator {
  private readonly receivedRecords: Recording<WireRecord>;
  private readonly sentRecords: Recording<WireRecord>;
  private readonly options: Required<SerialScannerSimulatorOptions>;

  constructor(path: string, options: SerialScannerSimulatorOptions = {}) {
    const filled = { ...simulatorDefaults(options, 9600), suffix: options.suffix ?? 'CR' };
    super(path, { ...filled, name: 'scanner' }, log);
    this.options = filled;
    this.receivedRecords = new Recording('bytes from the host', filled.maxRecorded);
    this.sentRecords = new Recording('bytes to the host', filled.maxRecorded);
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
    return this.receivedRecords.all();
  }

  /** Every run of bytes written to the host, since the last clear(). */
  sent(): WireRecord[] {
    return this.sentRecords.all();
  }

  /** Forgets the records. */
  clear(): void {
    this.receivedRecords.clear();
    this.sentRecords.clear();
  }

  /** Calls `listener` with each run of bytes the host sent; returns the unsubscribe. */
  onReceived(listener: (record: WireRecord) => void): () => void {
    return this.receivedRecords.subscribe(listener);
  }

  /** Resolves the next time the port is (re)opened, or at once while it is open. */
  whenOpen(timeoutMs = 5_000): Promise<void> {
    return this.port.whenOpen(timeoutMs);
  }

  /** Listener counts, so tests can prove that reopening does not pile listeners up. */
  listenerCounts(): { received: number; port: number } {
    return { received: this.receivedRecords.listenerCount, port: this.port.listenerCount };
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

  protected override receive(chunk: Buffer): void {
    this.receivedRecords.add({ at: Date.now(), bytes: Uint8Array.from(chunk) });
  }

  /** Writes through the port, which fails the write if the cable goes, and records it. */
  private async write(bytes: Uint8Array): Promise<void> {
    await this.port.send(bytes);
    this.sentRecords.add({ at: Date.now(), bytes });
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
