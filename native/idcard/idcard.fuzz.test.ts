/**
 * Seeded fuzzing of the pure parts: the frame parser and the card record parser. A failure names
 * its seed and case, and the same seed replays the same inputs.
 */
import { describe, expect, it } from 'vitest';
import { KioskError } from '../../app/common/errors.js';
import { seededRandom } from '../../test/support/random.js';
import { isValidIdNumber, type IdCardFields } from './id-record.js';
import { encodeReadData, parseReadResponse } from './read-response.js';
import {
  encodeSamResponse,
  samResponseParser,
  type SamParseResult,
  type SamResponse,
} from './sam-protocol.js';
import { encodeTextBlock, parseTextBlock } from './text-block.js';
import { clockInForce, foreignCard, residencePermit, residentCard } from './testing/cards.js';

const seed = Number(process.env.KIOSK_FUZZ_SEED ?? 0x1d_ca_7d);
const cases = 100_000;
const parserCodes = new Set(['bad_frame', 'checksum', 'oversized']);
const recordCodes = new Set([
  'card_invalid',
  'unknown_card_type',
  'bad_frame',
  'card_read_failed',
  'checksum',
]);

type Random = () => number;

function below(random: Random, limit: number): number {
  return Math.floor(random() * limit);
}

/** `length` random bytes, four from each draw: the fuzz loops spend most of their time here. */
function randomBytes(random: Random, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index += 4) {
    const word = Math.floor(random() * 0x1_0000_0000);
    for (let shift = 0; shift < 4 && index + shift < length; shift += 1) {
      bytes[index + shift] = (word >>> (8 * shift)) & 0xff;
    }
  }
  return bytes;
}

function validFrame(random: Random): Uint8Array {
  return encodeSamResponse(below(random, 256), randomBytes(random, below(random, 24)));
}

/** One kind of trouble a serial line can bring. */
const troubles: ((random: Random) => Uint8Array)[] = [
  (random) => randomBytes(random, below(random, 48)),
  (random) => {
    const frame = validFrame(random);
    return frame.subarray(0, 1 + below(random, frame.length - 1));
  },
  (random) => {
    const frame = Uint8Array.from(validFrame(random));
    frame[5 + below(random, frame.length - 5)] ^= 1 + below(random, 255);
    return frame;
  },
  (random) =>
    Uint8Array.from([0xaa, 0xaa, 0xaa, 0x96, 0x69, 0x0b + below(random, 0xf5), below(random, 256)]),
  (random) => {
    const outer = validFrame(random);
    const cut = 1 + below(random, outer.length - 1);
    return Buffer.concat([outer.subarray(0, cut), validFrame(random), outer.subarray(cut)]);
  },
  // Preamble-shaped noise: the bytes the parser looks for, in the wrong order or cut short.
  (random) =>
    Uint8Array.from(
      { length: below(random, 40) },
      () => [0xaa, 0x96, 0x69, 0x00, below(random, 256)][below(random, 5)],
    ),
];

/** `bytes` in one to three chunks, split at random. */
function chunks(random: Random, bytes: Uint8Array): Uint8Array[] {
  const cuts = [below(random, bytes.length + 1), below(random, bytes.length + 1)].sort(
    (a, b) => a - b,
  );
  return [bytes.subarray(0, cuts[0]), bytes.subarray(cuts[0], cuts[1]), bytes.subarray(cuts[1])];
}

function lastFrame(
  results: SamParseResult<SamResponse>[],
): SamParseResult<SamResponse> | undefined {
  return results.filter((result) => result.kind === 'frame').at(-1);
}

describe(`SAM frame parser under fuzzing (seed ${seed})`, () => {
  it(`survives ${cases} troubled inputs and parses the valid frame after each`, () => {
    const random = seededRandom(seed);
    const parser = samResponseParser();

    for (let index = 0; index < cases; index += 1) {
      const trouble = Buffer.concat(
        Array.from({ length: 1 + below(random, 3) }, () =>
          troubles[below(random, troubles.length)](random),
        ),
      );
      const next = validFrame(random);
      const context = `seed ${seed}, case ${index}`;
      let results: SamParseResult<SamResponse>[] = [];
      try {
        results = chunks(random, Buffer.concat([trouble, next])).flatMap((chunk) =>
          parser.push(chunk),
        );
      } catch (error) {
        throw new Error(`${context}: the parser threw`, { cause: error });
      }

      for (const result of results) {
        if (result.kind === 'error' && !parserCodes.has(result.error.code)) {
          throw new Error(`${context}: unexpected code ${result.error.code}`);
        }
      }
      if (!Buffer.from(lastFrame(results)?.bytes ?? []).equals(next) || parser.buffered !== 0) {
        throw new Error(`${context}: the valid frame after the trouble was lost`);
      }
    }
  });
});

const blocks = ([residentCard, residencePermit, foreignCard] satisfies IdCardFields[]).map((card) =>
  encodeTextBlock(card),
);

/** A text block that is random, or a real one with a few bytes changed. */
function troubledBlock(random: Random): Uint8Array {
  const kind = below(random, 4);
  if (kind === 0) return randomBytes(random, below(random, 4) === 0 ? below(random, 300) : 256);

  const block = Uint8Array.from(blocks[below(random, blocks.length)]);
  const changes = kind === 1 ? 1 : 1 + below(random, 6);
  for (let change = 0; change < changes; change += 1)
    block[below(random, 256)] = below(random, 256);
  if (kind === 3) block.set(Buffer.from(' JIY'[below(random, 4)], 'utf16le'), 248);
  return block;
}

/** Parses, returning the KioskError code or `ok`; anything else thrown fails the case. */
function outcome(work: () => unknown, context: string): string {
  try {
    work();
    return 'ok';
  } catch (error) {
    if (error instanceof KioskError && recordCodes.has(error.code)) return error.code;
    throw new Error(`${context}: threw something other than a known KioskError`, { cause: error });
  }
}

describe(`card record parser under fuzzing (seed ${seed})`, () => {
  it(`refuses ${cases} damaged text blocks with a code, or reads a consistent record`, () => {
    const random = seededRandom(seed + 1);
    const seen = new Map<string, number>();

    for (let index = 0; index < cases; index += 1) {
      const context = `seed ${seed + 1}, case ${index}`;
      const block = troubledBlock(random);
      const result = outcome(() => {
        const record = parseTextBlock(block, clockInForce);
        if (record.kind !== 'foreign_permanent' && !isValidIdNumber(record.idNumber)) {
          throw new Error(`${context}: read a record with a bad ID number`);
        }
      }, context);
      seen.set(result, (seen.get(result) ?? 0) + 1);
    }

    // Every outcome was reached, so the damage went deep enough to matter.
    expect([...seen.keys()].sort()).toEqual(['card_invalid', 'ok', 'unknown_card_type']);
    expect(parseTextBlock(encodeTextBlock(residentCard), clockInForce).idNumber).toBe(
      residentCard.idNumber,
    );
  });

  it('refuses random read answers with a code', () => {
    const random = seededRandom(seed + 2);
    const photo = new Uint8Array(1024);

    for (let index = 0; index < 20_000; index += 1) {
      const context = `seed ${seed + 2}, case ${index}`;
      const data =
        below(random, 2) === 0
          ? randomBytes(random, below(random, 300))
          : encodeReadData(
              troubledBlock(random),
              photo,
              below(random, 2) ? new Uint8Array(0) : undefined,
            );
      const status = below(random, 4) === 0 ? below(random, 256) : 0x90;
      outcome(() => parseReadResponse({ sw1: 0, sw2: 0, status, data }, clockInForce), context);
    }
  });
});
