/**
 * Splits a serial scanner's byte stream into codes at the configured suffix. Scanners end a code
 * with CR, LF, CR LF or Tab; a line that grows past the limit without one is dropped with a
 * `bad_frame` error and everything up to the next suffix is skipped, so the following code comes
 * through whole. Pure: the driver feeds chunks with the time they arrived.
 */
import { KioskError } from '../../app/common/errors.js';
import { maxScanBytes, scanFromBytes, type ScannerScan } from '../../app/common/scanner-scan.js';

/** The suffix a scanner is set to send after each code. */
export type ScanSuffix = 'CR' | 'LF' | 'CRLF' | 'Tab';

/** The suffixes and their bytes. */
export const suffixBytes: Readonly<Record<ScanSuffix, readonly number[]>> = {
  CR: [0x0d],
  LF: [0x0a],
  CRLF: [0x0d, 0x0a],
  Tab: [0x09],
};

const cr = 0x0d;
const lf = 0x0a;

/** How lines are split. */
export interface LineSplitterOptions {
  suffix?: ScanSuffix;
  /** Longest code accepted, in bytes. Default 8192, the contract's limit. */
  maxLineBytes?: number;
  /** A part-line left this long before more bytes arrive is dropped (`timeout`). Default 1000. */
  gapMs?: number;
}

/** What a chunk produced. */
export type LineResult = { kind: 'scan'; scan: ScannerScan } | { kind: 'error'; error: KioskError };

/** Turns a serial byte stream into scans. */
export class LineSplitter {
  private line: number[] = [];
  private skipping = false;
  private lastAt = Number.NEGATIVE_INFINITY;
  // The suffix byte just ended a line: a CR LF scanner on a CR setting must not start with LF.
  private afterCr = false;
  private readonly suffix: ScanSuffix;
  private readonly maxLineBytes: number;
  private readonly gapMs: number;

  constructor(options: LineSplitterOptions = {}) {
    this.suffix = options.suffix ?? 'CR';
    this.maxLineBytes = options.maxLineBytes ?? maxScanBytes;
    this.gapMs = options.gapMs ?? 1_000;
    if (!(this.maxLineBytes >= 1) || !(this.gapMs > 0))
      throw new KioskError('config_invalid', 'maxLineBytes and gapMs must be positive');
  }

  /** True while a part-line waits for its suffix: the driver should call expire() after the gap. */
  get pending(): boolean {
    return this.line.length > 0 || this.skipping;
  }

  /** Feeds bytes that arrived at `now` (milliseconds, any monotonic clock). */
  push(chunk: Uint8Array, now: number): LineResult[] {
    const results: LineResult[] = [];
    if (chunk.length === 0) return results;

    this.dropStale(now, results);
    this.lastAt = now;
    for (const byte of chunk) this.take(byte, results);
    return results;
  }

  /** Forgets a part-line, as after an unplug. */
  reset(): void {
    this.line = [];
    this.skipping = false;
    this.afterCr = false;
  }

  /** Drops a part-line that has waited longer than the gap; call when no bytes came. */
  expire(now: number): LineResult[] {
    const results: LineResult[] = [];
    this.dropStale(now, results);
    return results;
  }

  private dropStale(now: number, results: LineResult[]): void {
    if (!this.pending || now - this.lastAt < this.gapMs) return;

    // An overlong line was reported when it overflowed; its end never came, which is no news.
    const dropped = this.skipping ? [] : this.line;
    this.reset();
    if (dropped.length > 0) results.push(failure('timeout', this.abandoned(dropped)));
  }

  /** Names the suffix a dropped line seems to end with: the usual sign of a wrong setting. */
  private abandoned(line: readonly number[]): string {
    const start = `serial code abandoned: ${line.length} bytes came without the suffix`;
    const arrived = endingOf(line);
    return arrived
      ? `${start}: ended with ${arrived}, but suffix is ${this.suffix}`
      : `${start} ${this.suffix}`;
  }

  private take(byte: number, results: LineResult[]): void {
    const afterCr = this.afterCr;
    this.afterCr = false;
    if (this.endsLine(byte)) {
      this.endLine(results);
      this.afterCr = byte === cr;
      return;
    }

    // Tolerated: a scanner sending CR LF to a port set to CR (the LF) or to LF (the CR).
    if (byte === lf && afterCr && this.suffix === 'CR') return;
    if (this.skipping) return;

    this.line.push(byte);
    // The CR of a CR LF ending is not part of the code, so it may go one past the limit.
    const allowance = byte === cr && (this.suffix === 'CRLF' || this.suffix === 'LF') ? 1 : 0;
    if (this.line.length > this.maxLineBytes + allowance) this.overflow(results);
  }

  private endsLine(byte: number): boolean {
    switch (this.suffix) {
      case 'CR':
        return byte === cr;
      case 'LF':
      case 'CRLF':
        return byte === lf;
      case 'Tab':
        return byte === 0x09;
    }
  }

  private endLine(results: LineResult[]): void {
    const wasSkipping = this.skipping;
    const bytes = this.withoutTrailingCr();
    this.reset();
    if (wasSkipping || bytes.length === 0) return;

    results.push({ kind: 'scan', scan: scanFromBytes(Uint8Array.from(bytes), 'serial') });
  }

  /** The line without the CR of a CR LF ending (required for CRLF, tolerated for LF). */
  private withoutTrailingCr(): number[] {
    const line = this.line;
    const endsCr = line.length > 0 && line[line.length - 1] === cr;
    return (this.suffix === 'CRLF' || this.suffix === 'LF') && endsCr ? line.slice(0, -1) : line;
  }

  private overflow(results: LineResult[]): void {
    this.line = [];
    this.skipping = true;
    results.push(
      failure('bad_frame', `serial line over ${this.maxLineBytes} bytes without a suffix dropped`),
    );
  }
}

/** The suffix `line` ends with, if any; CR LF before a lone LF or CR. */
function endingOf(line: readonly number[]): ScanSuffix | undefined {
  const endsWith = (bytes: readonly number[]): boolean =>
    line.length > bytes.length &&
    bytes.every((byte, index) => line[line.length - bytes.length + index] === byte);
  const suffixes: ScanSuffix[] = ['CRLF', 'CR', 'LF', 'Tab'];
  return suffixes.find((suffix) => endsWith(suffixBytes[suffix]));
}

function failure(code: 'timeout' | 'bad_frame', message: string): LineResult {
  return { kind: 'error', error: new KioskError(code, message) };
}
