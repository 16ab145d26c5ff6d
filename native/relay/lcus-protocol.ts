/**
 * The LCUS relay board's wire protocol: four-byte frames `A0 <channel> <00 off | 01 on> <sum>`,
 * the sum being the low 8 bits of the first three bytes. The board never answers a frame, so the
 * host cannot tell whether one arrived: the driver relies on sending off again after every open.
 */
import { KioskError } from '../../app/common/errors.js';

/** First byte of every LCUS frame. */
export const lcusFrameStart = 0xa0;

/** Bytes in one frame. */
export const lcusFrameLength = 4;

/** LCUS boards come with 1, 2, 4 or 8 channels, numbered from 1. */
export const lcusMaxChannel = 8;

/** One command to the board: energise (`on`) or release one relay coil. */
export interface LcusFrame {
  channel: number;
  on: boolean;
}

/** What the parser made of the bytes it was given: a frame, or a run of bytes it threw away. */
export type LcusParseResult =
  | { kind: 'frame'; frame: LcusFrame; bytes: Uint8Array }
  | { kind: 'error'; error: KioskError; bytes: Uint8Array };

/** Encodes one frame; a channel outside 1..8 is a programming error. */
export function encodeLcusFrame(frame: LcusFrame): Uint8Array {
  if (!isChannel(frame.channel)) {
    throw new KioskError(
      'bad_frame',
      `LCUS channel must be 1..${lcusMaxChannel}, got ${frame.channel}`,
    );
  }

  const state = frame.on ? 0x01 : 0x00;
  return Uint8Array.of(lcusFrameStart, frame.channel, state, checksum(frame.channel, state));
}

/** Decodes exactly one frame, throwing KioskError `bad_frame` or `checksum` when it is not one. */
export function decodeLcusFrame(bytes: Uint8Array): LcusFrame {
  const problem = frameProblem(bytes);
  if (problem) throw problem;

  return { channel: bytes[1], on: bytes[2] === 0x01 };
}

/**
 * Turns a byte stream into frames. Bytes arrive in arbitrary chunks; after garbage or a corrupted
 * frame it resynchronises on the next start byte, so one bad byte never costs more than the frame
 * it hit. Errors are returned, never thrown: a noisy line must not stop the reader.
 */
export class LcusFrameParser {
  private pending: number[] = [];

  /** Feeds bytes and returns every frame and discarded run they complete, in order. */
  push(chunk: Uint8Array): LcusParseResult[] {
    for (const byte of chunk) this.pending.push(byte);

    const results: LcusParseResult[] = [];
    let offset = 0;
    for (;;) {
      const step = this.next(offset);
      if (!step) break;

      results.push(step.result);
      offset += step.consumed;
    }

    this.pending = this.pending.slice(offset);
    return results;
  }

  /** Bytes held back as the possible start of a frame. */
  get buffered(): number {
    return this.pending.length;
  }

  /** Forgets a half-received frame, e.g. when the port was reopened. */
  reset(): void {
    this.pending = [];
  }

  private next(offset: number): { result: LcusParseResult; consumed: number } | undefined {
    if (offset >= this.pending.length) return undefined;

    if (this.pending[offset] !== lcusFrameStart) return this.skipGarbage(offset);

    if (this.pending.length - offset < lcusFrameLength) return undefined;

    const candidate = Uint8Array.from(this.pending.slice(offset, offset + lcusFrameLength));
    const problem = frameProblem(candidate);
    if (!problem) {
      return {
        result: { kind: 'frame', frame: decodeLcusFrame(candidate), bytes: candidate },
        consumed: 4,
      };
    }

    const consumed = rejectedLength(candidate, problem);
    return {
      result: { kind: 'error', error: problem, bytes: candidate.slice(0, consumed) },
      consumed,
    };
  }

  private skipGarbage(offset: number): { result: LcusParseResult; consumed: number } {
    let end = this.pending.indexOf(lcusFrameStart, offset);
    if (end < 0) end = this.pending.length;

    const bytes = Uint8Array.from(this.pending.slice(offset, end));
    const error = parseError('bad_frame', `skipped ${bytes.length} bytes outside a frame`);
    return { result: { kind: 'error', error, bytes }, consumed: end - offset };
  }
}

/**
 * How much of a rejected window to drop. A wrong sum after a valid channel and state means a
 * corrupted frame: all of it goes, unless its last byte is a start byte (the next frame may begin
 * there; the channel and state bytes cannot be one). Otherwise only the start byte goes, since a
 * real frame may begin anywhere inside the window.
 */
function rejectedLength(candidate: Uint8Array, problem: KioskError): number {
  if (problem.code !== 'checksum') return 1;

  return candidate[3] === lcusFrameStart ? 3 : lcusFrameLength;
}

function frameProblem(bytes: Uint8Array): KioskError | undefined {
  if (bytes.length !== lcusFrameLength || bytes[0] !== lcusFrameStart) {
    return parseError('bad_frame', `not an LCUS frame: ${toHex(bytes)}`);
  }

  const [, channel, state, sum] = bytes as unknown as [number, number, number, number];
  if (!isChannel(channel) || (state !== 0x00 && state !== 0x01)) {
    return parseError('bad_frame', `LCUS frame with bad channel or state: ${toHex(bytes)}`);
  }

  if (sum !== checksum(channel, state)) {
    return parseError('checksum', `LCUS frame with bad checksum: ${toHex(bytes)}`);
  }

  return undefined;
}

/**
 * Parse errors come in bulk on a noisy line and are mostly counted and dropped; their stack would
 * only point into this file and costs most of their price, so it is left out.
 */
function parseError(code: 'checksum' | 'bad_frame', message: string): KioskError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new KioskError(code, message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function checksum(channel: number, state: number): number {
  return (lcusFrameStart + channel + state) & 0xff;
}

function isChannel(channel: number): boolean {
  return Number.isInteger(channel) && channel >= 1 && channel <= lcusMaxChannel;
}

/** Bytes as `A0 01 01 A2`, the way HARDWARE.md and vendor sheets write them. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}
