/**
 * The SAM wire protocol of second-generation ID card readers: frames `AA AA AA 96 69 LEN body
 * XOR`, LEN being two big-endian bytes that count the body and the checksum, the checksum the XOR
 * of every byte from the first LEN byte to the last body byte. Commands carry `CMD PARA`;
 * responses `00 00 SW3 data…`, SW3 being the reader's status.
 */
import { KioskError, type ErrorCode } from '../../app/common/errors.js';

/** Every frame starts with these five bytes. */
export const samPreamble = Uint8Array.of(0xaa, 0xaa, 0xaa, 0x96, 0x69);

/** Preamble and LEN: the bytes before a frame's body. */
export const samHeaderLength = samPreamble.length + 2;

/**
 * The largest LEN accepted by default. The longest answer a reader gives is text, photo and a
 * 1024-byte fingerprint: LEN 0x090A; a little room is left for makers that append more.
 */
export const samDefaultMaxLength = 0x0a00;

// The shortest body is a command's CMD PARA, so LEN is at least that plus the checksum.
const minLength = 3;

/** The commands the kiosk sends, as CMD and PARA. */
export const samCommands = {
  resetSam: { cmd: 0x10, para: 0xff },
  samStatus: { cmd: 0x11, para: 0xff },
  readSamId: { cmd: 0x12, para: 0xff },
  findCard: { cmd: 0x20, para: 0x01 },
  selectCard: { cmd: 0x20, para: 0x02 },
  readTextPhoto: { cmd: 0x30, para: 0x01 },
  readAppendedAddress: { cmd: 0x30, para: 0x03 },
  readTextPhotoFingerprint: { cmd: 0x30, para: 0x10 },
} as const satisfies Record<string, SamCommand>;

/** The SW3 statuses HARDWARE.md lists. */
export const samStatus = {
  success: 0x90,
  cardFound: 0x9f,
  noCard: 0x80,
  selectFailed: 0x81,
  readFailed: 0x41,
  unknownCardType: 0x40,
  noSuchContent: 0x91,
  commandChecksum: 0x10,
  commandLength: 0x11,
  badCommand: 0x21,
  notAllowed: 0x23,
  unknownError: 0x24,
} as const;

/** One command: CMD, PARA and, for the few commands that take any, data. */
export interface SamCommand {
  cmd: number;
  para: number;
  data?: Uint8Array;
}

/** One response: the two leading bytes (always 00 00 so far), the status SW3 and the data. */
export interface SamResponse {
  sw1: number;
  sw2: number;
  status: number;
  data: Uint8Array;
}

/** What a parser made of the bytes it was given: a frame, or a run of bytes it threw away. */
export type SamParseResult<Frame> =
  | { kind: 'frame'; frame: Frame; bytes: Uint8Array }
  | { kind: 'error'; error: KioskError; bytes: Uint8Array };

/** Wraps `body` in preamble, LEN and checksum. */
export function encodeSamFrame(body: Uint8Array): Uint8Array {
  const length = body.length + 1;
  if (length > 0xffff) throw new KioskError('oversized', `SAM body of ${body.length} bytes`);

  const frame = new Uint8Array(samHeaderLength + length);
  frame.set(samPreamble, 0);
  frame[5] = length >> 8;
  frame[6] = length & 0xff;
  frame.set(body, samHeaderLength);
  frame[frame.length - 1] = xorOf(frame, 5, frame.length - 1);
  return frame;
}

/** Encodes a command frame, e.g. find card: `AA AA AA 96 69 00 03 20 01 22`. */
export function encodeSamCommand(command: SamCommand): Uint8Array {
  const data = command.data ?? new Uint8Array(0);
  const body = new Uint8Array(2 + data.length);
  body[0] = command.cmd;
  body[1] = command.para;
  body.set(data, 2);
  return encodeSamFrame(body);
}

/** Encodes a response frame, as a reader (or the simulator) sends it. */
export function encodeSamResponse(
  status: number,
  data: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const body = new Uint8Array(3 + data.length);
  body[2] = status;
  body.set(data, 3);
  return encodeSamFrame(body);
}

/** Reads a response out of a frame's body; a body too short for SW1 SW2 SW3 is `bad_frame`. */
export function decodeSamResponseBody(body: Uint8Array): SamResponse | KioskError {
  if (body.length < 3) return parseError('bad_frame', `SAM response body of ${body.length} bytes`);

  return { sw1: body[0], sw2: body[1], status: body[2], data: body.slice(3) };
}

/** Reads a command out of a frame's body. */
export function decodeSamCommandBody(body: Uint8Array): SamCommand | KioskError {
  if (body.length < 2) return parseError('bad_frame', `SAM command body of ${body.length} bytes`);

  return { cmd: body[0], para: body[1], data: body.slice(2) };
}

/** Decodes exactly one whole response frame, throwing the KioskError a parser would report. */
export function decodeSamResponseFrame(bytes: Uint8Array): SamResponse {
  const results = samResponseParser().push(bytes);
  const [first] = results;
  if (!first) throw parseError('bad_frame', `incomplete SAM frame of ${bytes.length} bytes`);
  if (first.kind === 'error') throw first.error;
  if (results.length > 1 || first.bytes.length !== bytes.length) {
    throw parseError('bad_frame', 'bytes beyond the end of the SAM frame');
  }

  return first.frame;
}

/** Parser limits. */
export interface SamParserOptions {
  /** LEN values above this are `oversized`: a corrupted LEN must not stall the line for long. */
  maxLength?: number;
}

/** A parser for what a reader sends. */
export function samResponseParser(options: SamParserOptions = {}): SamFrameParser<SamResponse> {
  return new SamFrameParser(decodeSamResponseBody, options);
}

/** A parser for what a host sends (the simulator's side). */
export function samCommandParser(options: SamParserOptions = {}): SamFrameParser<SamCommand> {
  return new SamFrameParser(decodeSamCommandBody, options);
}

type Step<Frame> = { result: SamParseResult<Frame>; consumed: number } | undefined;

/**
 * Turns a byte stream fed in arbitrary chunks into frames. After garbage, a truncated frame, a
 * wrong checksum, an impossible LEN or a frame cut short by the next one, it resynchronises on
 * the next preamble, so one bad frame costs only itself. Errors are returned, never thrown: a
 * noisy line must not stop the reader.
 */
export class SamFrameParser<Frame> {
  private pending: Buffer = Buffer.alloc(0);
  private readonly maxLength: number;

  /** `decode` turns a checked body into a frame, or says why it is not one. */
  constructor(
    private readonly decode: (body: Uint8Array) => Frame | KioskError,
    options: SamParserOptions = {},
  ) {
    this.maxLength = options.maxLength ?? samDefaultMaxLength;
  }

  /** Feeds bytes and returns every frame and discarded run they complete, in order. */
  push(chunk: Uint8Array): SamParseResult<Frame>[] {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : concat(this.pending, chunk);

    const results: SamParseResult<Frame>[] = [];
    let offset = 0;
    for (let step = this.next(offset); step; step = this.next(offset)) {
      results.push(step.result);
      offset += step.consumed;
    }

    this.pending = this.pending.subarray(offset);
    return results;
  }

  /** Bytes held back as the possible start of a frame. */
  get buffered(): number {
    return this.pending.length;
  }

  /** Forgets a half-received frame, e.g. after a timeout or a reopen. */
  reset(): void {
    this.pending = Buffer.alloc(0);
  }

  private next(offset: number): Step<Frame> {
    if (offset >= this.pending.length) return undefined;

    const start = this.pending.indexOf(samPreamble, offset);
    if (start !== offset) return this.skipGarbage(offset, start);

    if (this.pending.length - offset < samHeaderLength) return undefined;

    const length = this.pending.readUInt16BE(offset + 5);
    if (!this.lengthOk(length)) return this.badLength(offset, length);

    const end = offset + samHeaderLength + length;
    if (end > this.pending.length) return this.cutShort(offset, end);

    return this.complete(offset, end);
  }

  /** Drops bytes before the next preamble, keeping a tail that may be the start of one. */
  private skipGarbage(offset: number, start: number): Step<Frame> {
    const end = start >= 0 ? start : this.pending.length - partialPreambleLength(this.pending);
    if (end <= offset) return undefined;

    const error = parseError('bad_frame', `skipped ${end - offset} bytes outside a SAM frame`);
    return this.rejected(offset, end, error);
  }

  private badLength(offset: number, length: number): Step<Frame> {
    const error =
      length > this.maxLength
        ? parseError('oversized', `SAM frame LEN ${length} is over ${this.maxLength}`)
        : parseError('bad_frame', `SAM frame LEN ${length} is under ${minLength}`);
    // A preamble cannot overlap itself, so the next frame begins after this one's at the earliest.
    return this.rejected(offset, offset + samPreamble.length, error);
  }

  /**
   * A frame not yet complete may be one whose tail was lost: when a whole, valid frame already
   * starts inside it, that is the case, and waiting for the rest would swallow good frames.
   */
  private cutShort(offset: number, end: number): Step<Frame> {
    const inner = this.innerFrame(offset, end);
    if (inner.kind !== 'valid') return undefined;

    return this.rejected(offset, inner.at, cutShortError());
  }

  /**
   * A whole frame. One with a good checksum that hides another whole, valid frame is a truncated
   * frame followed by that one, its bytes matching by chance: the inner frame wins, and while the
   * inner frame is still arriving the parser waits to know.
   */
  private complete(offset: number, end: number): Step<Frame> {
    const good = xorOf(this.pending, offset + 5, end - 1) === this.pending[end - 1];
    if (!good) {
      const error = parseError('checksum', 'SAM frame with a bad checksum');
      return this.rejected(offset, this.preambleBefore(offset, end), error);
    }

    const inner = this.innerFrame(offset, end);
    if (inner.kind === 'none') return this.accept(offset, end);
    if (inner.kind === 'incomplete') return undefined;

    return this.rejected(offset, inner.at, cutShortError());
  }

  private accept(offset: number, end: number): Step<Frame> {
    const bytes = Uint8Array.from(this.pending.subarray(offset, end));
    const decoded = this.decode(bytes.subarray(samHeaderLength, bytes.length - 1));
    const result: SamParseResult<Frame> =
      decoded instanceof KioskError
        ? { kind: 'error', error: decoded, bytes }
        : { kind: 'frame', frame: decoded, bytes };
    return { result, consumed: end - offset };
  }

  private rejected(offset: number, end: number, error: KioskError): Step<Frame> {
    const bytes = Uint8Array.from(this.pending.subarray(offset, end));
    return { result: { kind: 'error', error, bytes }, consumed: end - offset };
  }

  /** The first frame starting after the preamble at `offset` and before `end`, by its kind. */
  private innerFrame(offset: number, end: number): InnerFrame {
    let incomplete: InnerFrame | undefined;
    for (let at = this.nextPreamble(offset); at >= 0 && at < end; at = this.nextPreamble(at)) {
      const kind = this.classify(at);
      if (kind === 'valid') return { kind, at };
      if (kind === 'incomplete') incomplete ??= { kind, at };
    }

    return incomplete ?? { kind: 'none', at: -1 };
  }

  /**
   * Whether a frame starts at `at`: `incomplete` while it may still be one, which it no longer
   * may once a whole, valid frame starts inside it.
   */
  private classify(at: number): InnerFrame['kind'] {
    if (this.pending.length - at < samHeaderLength) return 'incomplete';

    const length = this.pending.readUInt16BE(at + 5);
    if (!this.lengthOk(length)) return 'none';

    const end = at + samHeaderLength + length;
    if (end <= this.pending.length) return this.checksumOk(at, end) ? 'valid' : 'none';

    for (let inner = this.nextPreamble(at); inner >= 0; inner = this.nextPreamble(inner)) {
      if (this.wholeAndValid(inner)) return 'none';
    }

    return 'incomplete';
  }

  private wholeAndValid(at: number): boolean {
    if (this.pending.length - at < samHeaderLength) return false;

    const length = this.pending.readUInt16BE(at + 5);
    const end = at + samHeaderLength + length;
    return this.lengthOk(length) && end <= this.pending.length && this.checksumOk(at, end);
  }

  private checksumOk(at: number, end: number): boolean {
    return xorOf(this.pending, at + 5, end - 1) === this.pending[end - 1];
  }

  private lengthOk(length: number): boolean {
    return length >= minLength && length <= this.maxLength;
  }

  private nextPreamble(after: number): number {
    return this.pending.indexOf(samPreamble, after + samPreamble.length);
  }

  /**
   * Where the bytes rejected from the frame at `offset` end: at the first preamble inside it, or
   * at the beginning of one still arriving, else at `end`.
   */
  private preambleBefore(offset: number, end: number): number {
    const at = this.nextPreamble(offset);
    if (at >= 0 && at < end) return at;

    // A preamble still arriving may begin inside the frame and run past its end.
    const from = Math.max(
      offset + samPreamble.length,
      this.pending.length - samPreamble.length + 1,
    );
    for (let start = from; start < end; start += 1) {
      if (startsPreamble(this.pending, start, this.pending.length - start)) return start;
    }

    return end;
  }
}

interface InnerFrame {
  kind: 'valid' | 'incomplete' | 'none';
  at: number;
}

function cutShortError(): KioskError {
  return parseError('bad_frame', 'SAM frame cut short by the next frame');
}

/** How many bytes at the end of `bytes` could be the beginning of a preamble. */
function partialPreambleLength(bytes: Buffer): number {
  for (let size = Math.min(samPreamble.length - 1, bytes.length); size > 0; size -= 1) {
    if (startsPreamble(bytes, bytes.length - size, size)) return size;
  }

  return 0;
}

function startsPreamble(bytes: Buffer, from: number, size: number): boolean {
  for (let index = 0; index < size; index += 1) {
    if (bytes[from + index] !== samPreamble[index]) return false;
  }

  return true;
}

function concat(pending: Buffer, chunk: Uint8Array): Buffer {
  return Buffer.concat([pending, chunk]);
}

/** XOR of `bytes[from..to)`. */
function xorOf(bytes: Uint8Array, from: number, to: number): number {
  let sum = 0;
  for (let index = from; index < to; index += 1) sum ^= bytes[index];
  return sum;
}

/**
 * Parse errors come in bulk on a noisy line and are mostly counted and dropped; their stack would
 * only point into this file and costs most of their price, so it is left out.
 */
export function parseError(code: ErrorCode, message: string): KioskError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new KioskError(code, message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Bytes as `AA AA AA 96 69`, the way HARDWARE.md and vendor sheets write them. */
export function samHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}

/** Reads hex as a technician may paste it: spaces, colons, `0x` prefixes and case are ignored. */
export function samBytesFromHex(text: string): Uint8Array {
  const digits = text.replace(/0x/gi, '').replace(/[\s:,-]/g, '');
  if (!/^(?:[0-9a-f]{2})*$/i.test(digits)) {
    throw new KioskError('bad_payload', 'expected hexadecimal bytes, two digits each');
  }

  return Uint8Array.from(Buffer.from(digits, 'hex'));
}
