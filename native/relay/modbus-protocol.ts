/**
 * The wire protocol of Modbus RTU relay boards, as far as a barrier needs it: function 05 (write
 * single coil) requests, their echo, the exception reply a board sends instead when it refuses,
 * and the Waveshare flash coils that close a relay for a time the board keeps itself. Every frame
 * ends in a CRC-16/MODBUS, low byte first, which is also what the parser resynchronises on.
 */
import { KioskError } from '../../app/common/errors.js';
import { toHex } from './lcus-protocol.js';

/** Function code of "write single coil"; a board's echo carries the same code. */
export const writeCoilFunction = 0x05;

/** The function code of a refusal: the request's code with the high bit set. */
export const writeCoilException = writeCoilFunction | 0x80;

/** Bytes in a write-coil request and in its echo. */
export const writeCoilLength = 8;

/** Bytes in an exception reply: address, function | 80, exception code, CRC. */
export const exceptionLength = 5;

/** Waveshare flash mode: writing coil `0200 + relay` closes that relay for value × 100 ms. */
export const flashCoilBase = 0x0200;

/** The flash time unit, in milliseconds. */
export const flashUnitMs = 100;

/** The two ways boards spell "on" in a coil write; "off" is always 00 00. */
export type ModbusOnValue = 'FF00' | '0100';

/** Slave addresses a board may have: 1..247 by the standard, 255 as some makers ship them. */
export function isModbusAddress(address: number): boolean {
  return Number.isInteger(address) && ((address >= 1 && address <= 247) || address === 255);
}

/** One write-single-coil request (or its echo): which board, which coil, the raw 16-bit value. */
export interface CoilWrite {
  address: number;
  coil: number;
  value: number;
}

/** How one board numbers and switches its relays. */
export interface ModbusAddressing {
  /** The board's slave address. */
  address: number;
  /** The coil of the first relay: 0 on most boards, 1 on some generic ones. */
  coilBase: 0 | 1;
  onValue: ModbusOnValue;
}

/** Address 1, coils from 0, on as FF 00: what HARDWARE.md's examples and most boards use. */
export const defaultModbusAddressing: ModbusAddressing = {
  address: 1,
  coilBase: 0,
  onValue: 'FF00',
};

/** What the parser made of the bytes it was given. */
export type ModbusParseResult =
  | { kind: 'frame'; frame: CoilWrite; bytes: Uint8Array }
  | { kind: 'exception'; address: number; exception: number; bytes: Uint8Array }
  | { kind: 'error'; error: KioskError; bytes: Uint8Array };

/** CRC-16/MODBUS (reflected polynomial A001, initial FFFF) of `bytes[start..end)`. */
export function modbusCrc(bytes: ArrayLike<number>, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let index = start; index < end; index += 1) {
    crc ^= bytes[index];
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }

  return crc;
}

/** Encodes a write-single-coil request; a value out of range is a programming error. */
export function encodeCoilWrite(write: CoilWrite): Uint8Array {
  const problem = writeProblem(write);
  if (problem) throw new KioskError('bad_frame', problem);

  const frame = Uint8Array.of(
    write.address,
    writeCoilFunction,
    write.coil >> 8,
    write.coil & 0xff,
    write.value >> 8,
    write.value & 0xff,
    0,
    0,
  );
  return withCrc(frame);
}

/** Decodes exactly one request or echo, throwing KioskError `bad_frame` or `checksum`. */
export function decodeCoilWrite(bytes: Uint8Array): CoilWrite {
  if (bytes.length !== writeCoilLength || bytes[1] !== writeCoilFunction) {
    throw parseError('bad_frame', `not a Modbus write-coil frame: ${toHex(bytes)}`);
  }

  if (!crcMatches(bytes, 0, writeCoilLength)) {
    throw parseError('checksum', `Modbus frame with bad CRC: ${toHex(bytes)}`);
  }

  return readCoilWrite(bytes, 0);
}

/** The coil that drives `channel` (counted from 1, as printed on the board). */
export function coilOf(addressing: ModbusAddressing, channel: number): number {
  return channel - 1 + addressing.coilBase;
}

/** The request that switches `channel` on or off. */
export function switchFrame(
  addressing: ModbusAddressing,
  channel: number,
  on: boolean,
): Uint8Array {
  return encodeCoilWrite({
    address: addressing.address,
    coil: coilOf(addressing, channel),
    value: on ? onValueOf(addressing.onValue) : 0x0000,
  });
}

/**
 * The flash request that closes `channel` for `ms`, rounded to the board's 100 ms unit (at least
 * one). The flash coil follows the board's numbering: 0200 plus the channel's coil.
 */
export function flashFrame(addressing: ModbusAddressing, channel: number, ms: number): Uint8Array {
  return encodeCoilWrite({
    address: addressing.address,
    coil: flashCoilBase + coilOf(addressing, channel),
    value: flashUnits(ms),
  });
}

/** How many 100 ms units a flash of `ms` lasts: rounded, at least one, at most FFFF. */
export function flashUnits(ms: number): number {
  return Math.min(0xffff, Math.max(1, Math.round(ms / flashUnitMs)));
}

/** The 16-bit value of an on-value spelling. */
export function onValueOf(onValue: ModbusOnValue): number {
  return onValue === 'FF00' ? 0xff00 : 0x0100;
}

/**
 * Why `reply` is not the echo of `request`: `bad_frame` for a different frame or a refusal,
 * the parser's own error (`checksum`, `bad_frame`) for damaged bytes; undefined when it is.
 */
export function echoProblem(request: Uint8Array, reply: ModbusParseResult): KioskError | undefined {
  switch (reply.kind) {
    case 'error':
      return reply.error;
    case 'exception':
      return new KioskError(
        'bad_frame',
        `board ${reply.address} refused ${toHex(request)}: ${exceptionName(reply.exception)}`,
      );
    case 'frame':
      if (sameBytes(request, reply.bytes)) return undefined;
      return new KioskError(
        'bad_frame',
        `echo differs: sent ${toHex(request)}, got ${toHex(reply.bytes)}`,
      );
  }
}

/** An exception reply, as a board sends it when it refuses a request. */
export function encodeException(address: number, exception: number): Uint8Array {
  return withCrc(Uint8Array.of(address, writeCoilException, exception, 0, 0));
}

/** Modbus exception 01: the board does not know the function. */
export const illegalFunction = 0x01;

/** Modbus exception 02: the board has no such coil. */
export const illegalDataAddress = 0x02;

/** Modbus exception 03: the value is not one the board accepts. */
export const illegalDataValue = 0x03;

/**
 * Turns a byte stream into write-coil frames and exception replies. Bytes arrive in arbitrary
 * chunks; a window whose CRC does not match loses only its first byte, since a real frame may
 * start anywhere inside it, and each run of discarded bytes is reported once. A CRC passes one
 * random window in 65,536, so noise can very rarely form a frame: the driver compares the echo. It never holds more
 * than one frame's worth of bytes, and returns errors instead of throwing them.
 */
export class ModbusReplyParser {
  private pending: number[] = [];

  /** Feeds bytes and returns every frame, refusal and discarded run they complete, in order. */
  push(chunk: Uint8Array): ModbusParseResult[] {
    for (const byte of chunk) this.pending.push(byte);

    const results: ModbusParseResult[] = [];
    const skipped = new SkippedRun();
    let offset = 0;
    for (;;) {
      const step = this.next(offset);
      if (!step) break;

      if (step.result) {
        skipped.flushInto(results, this.pending, offset);
        results.push(step.result);
      } else skipped.add(offset, step.reason);
      offset += step.consumed;
    }

    skipped.flushInto(results, this.pending, offset);
    this.pending = this.pending.slice(offset);
    return results;
  }

  /** Bytes held back as the possible start of a frame. */
  get buffered(): number {
    return this.pending.length;
  }

  /** Forgets a half-received frame, e.g. before a new request or after a reopen. */
  reset(): void {
    this.pending = [];
  }

  private next(offset: number): Step | undefined {
    const available = this.pending.length - offset;
    if (available < 2) return undefined;

    const length = frameLength(this.pending[offset + 1]);
    if (length === undefined) return { consumed: 1, reason: 'bad_frame' };

    // Without the line's timing a short frame can hide behind the start of a long one that never
    // comes: a complete frame with a good CRC further on proves the bytes before it were noise.
    if (available < length) {
      return this.completeFrameAfter(offset) ? { consumed: 1, reason: 'bad_frame' } : undefined;
    }

    if (!crcMatches(this.pending, offset, offset + length)) {
      return { consumed: 1, reason: 'checksum' };
    }

    const bytes = Uint8Array.from(this.pending.slice(offset, offset + length));
    return { consumed: length, result: resultOf(bytes) };
  }

  private completeFrameAfter(offset: number): boolean {
    for (let start = offset + 1; start + 1 < this.pending.length; start += 1) {
      const length = frameLength(this.pending[start + 1]);
      const end = start + (length ?? Number.POSITIVE_INFINITY);
      if (end <= this.pending.length && crcMatches(this.pending, start, end)) return true;
    }

    return false;
  }
}

/** One parser step: a result, or one byte dropped for `reason`. */
type Step =
  | { consumed: number; result: ModbusParseResult; reason?: undefined }
  | { consumed: number; reason: 'checksum' | 'bad_frame'; result?: undefined };

/** Consecutive dropped bytes, reported as one error named after why the first one went. */
class SkippedRun {
  private start = -1;
  private reason: 'checksum' | 'bad_frame' = 'bad_frame';

  add(offset: number, reason: 'checksum' | 'bad_frame'): void {
    if (this.start >= 0) return;

    this.start = offset;
    this.reason = reason;
  }

  flushInto(results: ModbusParseResult[], pending: number[], end: number): void {
    if (this.start < 0) return;

    const bytes = Uint8Array.from(pending.slice(this.start, end));
    const what = this.reason === 'checksum' ? 'a frame with a bad CRC' : 'bytes outside a frame';
    const error = parseError(this.reason, `skipped ${bytes.length} bytes: ${what}`);
    results.push({ kind: 'error', error, bytes });
    this.start = -1;
  }
}

function frameLength(functionCode: number): number | undefined {
  if (functionCode === writeCoilFunction) return writeCoilLength;
  if (functionCode === writeCoilException) return exceptionLength;
  return undefined;
}

function resultOf(bytes: Uint8Array): ModbusParseResult {
  if (bytes[1] === writeCoilException) {
    return { kind: 'exception', address: bytes[0], exception: bytes[2], bytes };
  }

  return { kind: 'frame', frame: readCoilWrite(bytes, 0), bytes };
}

function readCoilWrite(bytes: ArrayLike<number>, offset: number): CoilWrite {
  return {
    address: bytes[offset],
    coil: (bytes[offset + 2] << 8) | bytes[offset + 3],
    value: (bytes[offset + 4] << 8) | bytes[offset + 5],
  };
}

function withCrc(frame: Uint8Array): Uint8Array {
  const crc = modbusCrc(frame, 0, frame.length - 2);
  frame[frame.length - 2] = crc & 0xff;
  frame[frame.length - 1] = crc >> 8;
  return frame;
}

function crcMatches(bytes: ArrayLike<number>, start: number, end: number): boolean {
  const crc = modbusCrc(bytes, start, end - 2);
  return bytes[end - 2] === (crc & 0xff) && bytes[end - 1] === crc >> 8;
}

function writeProblem(write: CoilWrite): string | undefined {
  const is16Bit = (value: number): boolean =>
    Number.isInteger(value) && value >= 0 && value <= 0xffff;
  if (!Number.isInteger(write.address) || write.address < 0 || write.address > 0xff) {
    return `Modbus address must be 0..255, got ${write.address}`;
  }

  if (!is16Bit(write.coil)) return `Modbus coil must be 0..FFFF, got ${write.coil}`;
  if (!is16Bit(write.value)) return `Modbus coil value must be 0..FFFF, got ${write.value}`;
  return undefined;
}

function exceptionName(exception: number): string {
  const names: Record<number, string> = {
    [illegalFunction]: 'exception 01 (illegal function)',
    [illegalDataAddress]: 'exception 02 (illegal data address)',
    [illegalDataValue]: 'exception 03 (illegal data value)',
    0x04: 'exception 04 (device failure)',
  };
  return names[exception] ?? `exception ${toHex(Uint8Array.of(exception))}`;
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}

/** Parse errors come in bulk on a noisy line; their stack would only point here, so it is left out. */
function parseError(code: 'checksum' | 'bad_frame', message: string): KioskError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new KioskError(code, message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
