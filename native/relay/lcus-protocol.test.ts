import { describe, expect, it } from 'vitest';
import { hasCode, KioskError } from '../../app/common/errors.js';
import {
  decodeLcusFrame,
  encodeLcusFrame,
  LcusFrameParser,
  toHex,
  type LcusFrame,
  type LcusParseResult,
} from './lcus-protocol.js';
import { seededRandom } from '../../test/support/random.js';

const bytes = (hex: string): Uint8Array =>
  Uint8Array.from(hex.split(' '), (pair) => parseInt(pair, 16));

function framesOf(results: LcusParseResult[]): LcusFrame[] {
  return results.flatMap((result) => (result.kind === 'frame' ? [result.frame] : []));
}

describe('LCUS frame encoding', () => {
  it('encodes channel 1 on as A0 01 01 A2, as the hardware notes give it', () => {
    expect(toHex(encodeLcusFrame({ channel: 1, on: true }))).toBe('A0 01 01 A2');
  });

  it('encodes channel 1 off as A0 01 00 A1', () => {
    expect(toHex(encodeLcusFrame({ channel: 1, on: false }))).toBe('A0 01 00 A1');
  });

  it('encodes channel 2 on as A0 02 01 A3', () => {
    expect(toHex(encodeLcusFrame({ channel: 2, on: true }))).toBe('A0 02 01 A3');
  });

  it('encodes channel 8 off with the sum kept to its low 8 bits', () => {
    expect(toHex(encodeLcusFrame({ channel: 8, on: true }))).toBe('A0 08 01 A9');
  });

  it('refuses channels the boards do not have', () => {
    for (const channel of [0, 9, 1.5, -1]) {
      expect(() => encodeLcusFrame({ channel, on: true })).toThrow(KioskError);
    }
  });

  it('decodes what it encodes for every channel and state', () => {
    for (let channel = 1; channel <= 8; channel += 1) {
      for (const on of [true, false]) {
        expect(decodeLcusFrame(encodeLcusFrame({ channel, on }))).toEqual({ channel, on });
      }
    }
  });

  it('rejects a wrong sum with the checksum code', () => {
    expect(() => decodeLcusFrame(bytes('A0 01 01 A3'))).toThrow(
      expect.objectContaining({ code: 'checksum' }),
    );
  });

  it('rejects a bad start byte, channel, state or length with the bad_frame code', () => {
    for (const hex of ['A1 01 01 A3', 'A0 00 01 A1', 'A0 01 02 A3', 'A0 01 01']) {
      expect(() => decodeLcusFrame(bytes(hex))).toThrow(
        expect.objectContaining({ code: 'bad_frame' }),
      );
    }
  });
});

describe('LCUS frame parser', () => {
  it('joins a frame that arrives one byte at a time', () => {
    const parser = new LcusFrameParser();
    const results = ['A0', '01', '01', 'A2'].flatMap((hex) => parser.push(bytes(hex)));

    expect(results).toEqual([
      { kind: 'frame', frame: { channel: 1, on: true }, bytes: bytes('A0 01 01 A2') },
    ]);
    expect(parser.buffered).toBe(0);
  });

  it('skips garbage before a frame and reports it as bad_frame', () => {
    const results = new LcusFrameParser().push(bytes('FF 13 37 A0 02 01 A3'));

    expect(results[0]?.kind).toBe('error');
    expect(results[0]?.kind === 'error' && results[0].error.code).toBe('bad_frame');
    expect(framesOf(results)).toEqual([{ channel: 2, on: true }]);
  });

  it('reports a corrupted frame as checksum and keeps the frame after it', () => {
    const results = new LcusFrameParser().push(bytes('A0 01 00 A2 A0 01 00 A1'));

    expect(
      results.map((result) => (result.kind === 'error' ? result.error.code : 'frame')),
    ).toEqual(['checksum', 'frame']);
    expect(framesOf(results)).toEqual([{ channel: 1, on: false }]);
  });

  it('finds a frame that starts inside a truncated one', () => {
    const results = new LcusFrameParser().push(bytes('A0 01 A0 01 00 A1'));

    expect(framesOf(results)).toEqual([{ channel: 1, on: false }]);
  });

  it('finds a frame that starts on the sum byte of a corrupted one', () => {
    const results = new LcusFrameParser().push(bytes('A0 03 01 A0 03 00 A3'));

    expect(framesOf(results)).toEqual([{ channel: 3, on: false }]);
  });

  it('forgets a half frame on reset', () => {
    const parser = new LcusFrameParser();
    parser.push(bytes('A0 01'));
    parser.reset();

    expect(framesOf(parser.push(bytes('01 A2')))).toEqual([]);
  });

  it('survives 100,000 random, truncated, corrupted and interleaved inputs and resyncs each time', () => {
    const random = seededRandom(0x1c05);
    const parser = new LcusFrameParser();
    const pick = (n: number): number => Math.floor(random() * n);
    const validFrame = (): LcusFrame => ({ channel: 1 + pick(8), on: random() < 0.5 });

    for (let round = 0; round < 100_000; round += 1) {
      const sent: LcusFrame[] = [];
      const stream: number[] = [];
      for (let piece = pick(4); piece >= 0; piece -= 1) {
        appendNoise(stream, pick, validFrame);
        const frame = validFrame();
        sent.push(frame);
        stream.push(...encodeLcusFrame(frame));
      }

      const received = feedInChunks(parser, stream, pick);

      const last = received.at(-1);
      const resynced = last?.channel === sent.at(-1)?.channel && last?.on === sent.at(-1)?.on;
      if (!resynced || !containsInOrder(received, sent) || parser.buffered !== 0) {
        expect.fail(`round ${round} lost a frame in ${toHex(Uint8Array.from(stream))}`);
      }
    }
  });
});

function appendNoise(
  stream: number[],
  pick: (n: number) => number,
  validFrame: () => LcusFrame,
): void {
  const frame = [...encodeLcusFrame(validFrame())];
  switch (pick(4)) {
    case 0:
      for (let n = pick(12); n > 0; n -= 1) stream.push(random8(pick));
      return;
    case 1:
      stream.push(...frame.slice(0, 1 + pick(3)));
      return;
    case 2:
      frame[1 + pick(3)] ^= 1 << pick(8);
      stream.push(...frame);
      return;
    default:
      stream.push(0xa0, ...Array.from({ length: pick(3) }, () => (pick(2) ? 0xa0 : random8(pick))));
  }
}

function random8(pick: (n: number) => number): number {
  return pick(256);
}

function feedInChunks(
  parser: LcusFrameParser,
  stream: number[],
  pick: (n: number) => number,
): LcusFrame[] {
  const received: LcusFrame[] = [];
  let offset = 0;
  while (offset < stream.length) {
    const size = 1 + pick(stream.length - offset);
    const results = parser.push(Uint8Array.from(stream.slice(offset, offset + size)));
    for (const result of results) {
      if (result.kind === 'frame') received.push(result.frame);
      else if (!hasCode(result.error, 'checksum') && !hasCode(result.error, 'bad_frame')) {
        throw new Error(`unexpected parser error ${String(result.error)}`);
      }
    }
    offset += size;
  }

  return received;
}

/** True when `wanted` appears in `received` in order; noise may have formed extra valid frames. */
function containsInOrder(received: LcusFrame[], wanted: LcusFrame[]): boolean {
  let next = 0;
  for (const frame of received) {
    const target = wanted[next];
    if (target && frame.channel === target.channel && frame.on === target.on) next += 1;
  }

  return next === wanted.length;
}
