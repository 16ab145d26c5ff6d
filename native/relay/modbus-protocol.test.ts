import { describe, expect, it } from 'vitest';
import { KioskError } from '../../app/common/errors.js';
import { seededRandom } from '../../test/support/random.js';
import { toHex } from './lcus-protocol.js';
import {
  decodeCoilWrite,
  defaultModbusAddressing,
  echoProblem,
  encodeCoilWrite,
  encodeException,
  flashFrame,
  flashUnits,
  illegalDataAddress,
  modbusCrc,
  ModbusReplyParser,
  switchFrame,
  type CoilWrite,
  type ModbusAddressing,
  type ModbusParseResult,
} from './modbus-protocol.js';

const bytes = (hex: string): Uint8Array =>
  Uint8Array.from(hex.split(' '), (pair) => parseInt(pair, 16));

const generic: ModbusAddressing = { address: 255, coilBase: 1, onValue: '0100' };

function kinds(results: ModbusParseResult[]): string[] {
  return results.map((result) => (result.kind === 'error' ? result.error.code : result.kind));
}

describe('Modbus frame encoding', () => {
  it('computes CRC-16/MODBUS with the check value of its catalogue entry', () => {
    expect(modbusCrc(new TextEncoder().encode('123456789'))).toBe(0x4b37);
  });

  it('turns coil 0 on as 01 05 00 00 FF 00 8C 3A, as the hardware notes give it', () => {
    expect(toHex(switchFrame(defaultModbusAddressing, 1, true))).toBe('01 05 00 00 FF 00 8C 3A');
  });

  it('turns coil 0 off as 01 05 00 00 00 00 CD CA', () => {
    expect(toHex(switchFrame(defaultModbusAddressing, 1, false))).toBe('01 05 00 00 00 00 CD CA');
  });

  it('closes relay 0 for 700 ms in flash mode as 01 05 02 00 00 07 8D B0', () => {
    expect(toHex(flashFrame(defaultModbusAddressing, 1, 700))).toBe('01 05 02 00 00 07 8D B0');
  });

  it('addresses boards that count coils from 1, say on as 01 00 and answer to 255', () => {
    const on = switchFrame(generic, 1, true);

    expect(decodeCoilWrite(on)).toEqual({ address: 255, coil: 1, value: 0x0100 });
    expect(decodeCoilWrite(switchFrame(generic, 3, false))).toEqual({
      address: 255,
      coil: 3,
      value: 0,
    });
    expect(decodeCoilWrite(flashFrame(generic, 2, 300))).toEqual({
      address: 255,
      coil: 0x0202,
      value: 3,
    });
  });

  it('rounds flash times to the 100 ms unit, never to nothing', () => {
    expect([40, 149, 150, 1_000, 10_000_000].map(flashUnits)).toEqual([1, 1, 2, 10, 0xffff]);
  });

  it('refuses addresses, coils and values that do not fit the frame', () => {
    for (const write of [
      { address: 256, coil: 0, value: 0 },
      { address: 1, coil: 0x10000, value: 0 },
      { address: 1, coil: 0, value: -1 },
      { address: 1, coil: 1.5, value: 0 },
    ]) {
      expect(() => encodeCoilWrite(write)).toThrow(expect.objectContaining({ code: 'bad_frame' }));
    }
  });

  it('rejects a frame with a wrong CRC with the checksum code', () => {
    expect(() => decodeCoilWrite(bytes('01 05 00 00 FF 00 8C 3B'))).toThrow(
      expect.objectContaining({ code: 'checksum' }),
    );
  });

  it('rejects a short frame or another function with the bad_frame code', () => {
    for (const hex of ['01 05 00 00 FF 00 8C', '01 06 00 00 FF 00 8C 3A']) {
      expect(() => decodeCoilWrite(bytes(hex))).toThrow(
        expect.objectContaining({ code: 'bad_frame' }),
      );
    }
  });
});

describe('Modbus echo check', () => {
  const request = switchFrame(defaultModbusAddressing, 1, true);

  it('accepts the request itself as its echo', () => {
    expect(echoProblem(request, parseOne(request))).toBeUndefined();
  });

  it('calls a different frame bad_frame, naming both', () => {
    const other = switchFrame(defaultModbusAddressing, 1, false);

    const problem = echoProblem(request, parseOne(other));

    expect(problem).toMatchObject({ code: 'bad_frame' });
    expect(problem?.message).toContain('01 05 00 00 00 00 CD CA');
  });

  it('calls a refusal bad_frame, naming the exception', () => {
    const problem = echoProblem(request, parseOne(encodeException(1, illegalDataAddress)));

    expect(problem).toMatchObject({ code: 'bad_frame' });
    expect(problem?.message).toMatch(/illegal data address/);
  });

  it('passes a damaged reply on with the parser’s code', () => {
    const damaged = new ModbusReplyParser().push(bytes('01 05 00 00 FF 00 8C 3B 00'));

    expect(echoProblem(request, damaged[0])).toMatchObject({ code: 'checksum' });
  });
});

describe('Modbus reply parser', () => {
  it('joins a frame that arrives one byte at a time', () => {
    const parser = new ModbusReplyParser();
    const frame = bytes('01 05 02 00 00 07 8D B0');

    const results = [...frame].flatMap((byte) => parser.push(Uint8Array.of(byte)));

    expect(results).toEqual([
      { kind: 'frame', frame: { address: 1, coil: 0x0200, value: 7 }, bytes: frame },
    ]);
    expect(parser.buffered).toBe(0);
  });

  it('reports garbage before a frame once, as bad_frame, and keeps the frame', () => {
    const results = new ModbusReplyParser().push(bytes('FF 13 37 01 05 00 00 FF 00 8C 3A'));

    expect(kinds(results)).toEqual(['bad_frame', 'frame']);
    expect(results[0]?.bytes).toEqual(bytes('FF 13 37'));
  });

  it('reports a frame with a wrong CRC as checksum and finds the frame after it', () => {
    const results = new ModbusReplyParser().push(
      bytes('01 05 00 00 FF 00 8C 3B 01 05 00 00 00 00 CD CA'),
    );

    expect(kinds(results)).toEqual(['checksum', 'frame']);
    expect(results[1]).toMatchObject({ frame: { coil: 0, value: 0 } });
  });

  it('finds a frame that starts inside a truncated one', () => {
    const results = new ModbusReplyParser().push(bytes('01 05 00 01 05 00 00 FF 00 8C 3A'));

    expect(kinds(results)).toEqual(['checksum', 'frame']);
  });

  it('reads an exception reply', () => {
    const results = new ModbusReplyParser().push(encodeException(1, illegalDataAddress));

    expect(results).toMatchObject([{ kind: 'exception', address: 1, exception: 2 }]);
  });

  it('forgets a half frame on reset', () => {
    const parser = new ModbusReplyParser();
    parser.push(bytes('01 05 00 00'));
    parser.reset();

    expect(parser.push(bytes('FF 00 8C 3A')).filter((result) => result.kind === 'frame')).toEqual(
      [],
    );
  });

  it('survives 100,000 random, truncated, corrupted, oversized and interleaved inputs and resyncs each time', () => {
    const seed = 0x0d05;
    const random = seededRandom(seed);
    const pick = (n: number): number => Math.floor(random() * n);
    const parser = new ModbusReplyParser();
    let ambiguousRounds = 0;

    for (let round = 0; round < 100_000; round += 1) {
      const sent: Uint8Array[] = [];
      const starts: number[] = [];
      const stream: number[] = [];
      for (let piece = pick(3); piece >= 0; piece -= 1) {
        appendNoise(stream, pick);
        const frame = validFrame(pick);
        sent.push(frame);
        starts.push(stream.length);
        stream.push(...frame);
      }

      const received = feedInChunks(parser, stream, pick);

      // Without the line's timing, noise whose CRC happens to pass over a real frame's bytes is a
      // frame as far as anyone can tell: such rounds only have to leave the parser working.
      if (overlapsAFakeFrame(stream, starts)) {
        ambiguousRounds += 1;
        parser.reset();
        continue;
      }

      const resynced = sameBytes(received.at(-1), sent.at(-1));
      if (!resynced || !containsInOrder(received, sent) || parser.buffered !== 0) {
        expect.fail(
          `seed ${seed} round ${round} lost a frame in ${toHex(Uint8Array.from(stream))}`,
        );
      }
    }

    expect(ambiguousRounds).toBeLessThan(100);
  });
});

function parseOne(frame: Uint8Array): ModbusParseResult {
  const [result] = new ModbusReplyParser().push(frame);
  if (!result) throw new Error('nothing parsed');
  return result;
}

/** A request, an echo or a refusal, on any address, coil and value. */
function validFrame(pick: (n: number) => number): Uint8Array {
  if (pick(8) === 0) return encodeException(1 + pick(247), 1 + pick(4));

  const write: CoilWrite = { address: 1 + pick(255), coil: pick(0x10000), value: pick(0x10000) };
  return encodeCoilWrite(write);
}

function appendNoise(stream: number[], pick: (n: number) => number): void {
  const frame = [...validFrame(pick)];
  switch (pick(6)) {
    case 0:
      for (let n = pick(16); n > 0; n -= 1) stream.push(pick(256));
      return;
    case 1:
      stream.push(...frame.slice(0, 1 + pick(frame.length - 1)));
      return;
    case 2:
      frame[pick(frame.length)] ^= 1 << pick(8);
      stream.push(...frame);
      return;
    case 3:
      // Oversized: a frame with a tail, or a run longer than any Modbus frame.
      stream.push(...frame, ...Array.from({ length: 1 + pick(300) }, () => pick(256)));
      return;
    case 4:
      // Bytes that look like the start of a frame over and over.
      for (let n = 1 + pick(6); n > 0; n -= 1) stream.push(pick(256), pick(2) ? 0x05 : 0x85);
      return;
    default:
      return;
  }
}

function feedInChunks(
  parser: ModbusReplyParser,
  stream: number[],
  pick: (n: number) => number,
): Uint8Array[] {
  const received: Uint8Array[] = [];
  let offset = 0;
  while (offset < stream.length) {
    const size = 1 + pick(Math.min(24, stream.length - offset));
    for (const result of parser.push(Uint8Array.from(stream.slice(offset, offset + size)))) {
      if (result.kind !== 'error') received.push(result.bytes);
      else if (!(result.error instanceof KioskError) || !isParseCode(result.error.code)) {
        throw new Error(`unexpected parser error ${String(result.error)}`);
      }
    }
    if (parser.buffered >= 8) throw new Error(`parser holds ${parser.buffered} bytes`);
    offset += size;
  }

  return received;
}

/** True when a CRC-valid window other than a sent frame overlaps one of the sent frames. */
function overlapsAFakeFrame(stream: number[], starts: number[]): boolean {
  return starts.some((start) => {
    const end = start + (stream[start + 1] === 0x05 ? 8 : 5);
    for (let other = Math.max(0, start - 7); other < end; other += 1) {
      if (other === start) continue;

      const length = stream[other + 1] === 0x05 ? 8 : stream[other + 1] === 0x85 ? 5 : 0;
      const otherEnd = other + length;
      if (
        length > 0 &&
        otherEnd > start &&
        otherEnd <= stream.length &&
        crcPasses(stream, other, otherEnd)
      )
        return true;
    }

    return false;
  });
}

function crcPasses(stream: number[], start: number, end: number): boolean {
  const crc = modbusCrc(stream, start, end - 2);
  return stream[end - 2] === (crc & 0xff) && stream[end - 1] === crc >> 8;
}

function isParseCode(code: string): boolean {
  return code === 'checksum' || code === 'bad_frame';
}

function sameBytes(left: Uint8Array | undefined, right: Uint8Array | undefined): boolean {
  if (left === undefined || right === undefined || left.length !== right.length) return false;

  return left.every((byte, index) => byte === right[index]);
}

/** True when `wanted` appears in `received` in order; noise may have formed extra valid frames. */
function containsInOrder(received: Uint8Array[], wanted: Uint8Array[]): boolean {
  let next = 0;
  for (const frame of received) {
    if (next < wanted.length && sameBytes(frame, wanted[next])) next += 1;
  }

  return next === wanted.length;
}
