/**
 * Seeded fuzzing of the three scanner parsers: random, truncated, oversized and interleaved
 * input must never throw, may only produce typed errors, and must let the next valid code
 * through. A failure names its seed and input number so it can be replayed.
 */
import { describe, expect, it } from 'vitest';
import { KioskError, type ErrorCode } from '../../app/common/errors.js';
import { seededRandom } from '../../test/support/random.js';
import { HidPosParser, resolveHidPosLayout, type HidPosLayoutName } from './hid-pos-parser.js';
import { KeyboardWedge, type WedgeEvent } from '../../app/common/keyboard-wedge.js';
import { LineSplitter, suffixBytes, type ScanSuffix } from './line-splitter.js';
import { encodeHidPosReports } from './testing/hid-pos-device.js';

const inputs = 100_000;
// How often a valid code is sent to prove the parser still reads one.
const checkEvery = 100;
const seed = 0x5ca22e7;
const encoder = new TextEncoder();

type Result = { kind: string; error?: unknown; scan?: { text: string } };

/** Fails unless every error result is a KioskError with one of `codes`. */
function assertTyped(results: readonly Result[], codes: readonly ErrorCode[], where: string): void {
  for (const result of results) {
    if (result.kind !== 'error') continue;

    const typed = result.error instanceof KioskError && codes.includes(result.error.code);
    if (!typed) throw new Error(`${where}: untyped error ${String(result.error)}`);
  }
}

function lastScanText(results: readonly Result[]): string | undefined {
  return results.filter((result) => result.kind === 'scan').at(-1)?.scan?.text;
}

/** `length` random bytes; a plain loop, since the fuzz makes millions of them. */
function randomBytes(random: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index += 1) bytes[index] = (random() * 256) | 0;
  return bytes;
}

const pick = <T>(random: () => number, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)];

describe.each<HidPosLayoutName>(['newland', 'honeywell'])(
  'fuzzing the %s HID-POS parser',
  (name) => {
    it(`survives ${inputs} random reports and still reads the next code`, () => {
      const layout = resolveHidPosLayout(name);
      const random = seededRandom(seed);
      const gapMs = 100;
      const parser = new HidPosParser(layout, gapMs);
      const valid = encodeHidPosReports(layout, encoder.encode('v'.repeat(150)));
      let now = 0;

      /** One hostile report: random, truncated, mutated, oversized or out of order. */
      const hostile = (): Uint8Array => {
        const kind = random();
        const base = pick(random, valid);
        if (kind < 0.25) return randomBytes(random, Math.floor(random() * 80));
        if (kind < 0.45) return base.slice(0, Math.floor(random() * base.length));
        if (kind < 0.75) {
          const mutated = base.slice();
          mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
          mutated[0] = random() < 0.8 ? layout.reportId : mutated[0];
          return mutated;
        }
        if (kind < 0.85) return Uint8Array.from([layout.reportId, ...randomBytes(random, 300)]);
        return base;
      };

      for (let index = 0; index < inputs; index += 1) {
        const where = `seed ${seed}, ${name} input ${index}`;
        now += random() < 0.05 ? random() * 300 : random() * 5;
        const results = random() < 0.02 ? parser.expire(now) : parser.push(hostile(), now);
        assertTyped(results, ['bad_frame', 'timeout'], where);

        if (index % checkEvery !== checkEvery - 1) continue;

        const text = `code-${index}`;
        now += gapMs + 1;
        const check = encodeHidPosReports(layout, encoder.encode(text)).flatMap((report) =>
          parser.push(report, now),
        );
        assertTyped(check, ['bad_frame', 'timeout'], where);
        expect(lastScanText(check), where).toBe(text);
      }
    });
  },
);

describe('fuzzing the serial line splitter', () => {
  it(`survives ${inputs} random chunks across all suffixes and still reads the next code`, () => {
    const random = seededRandom(seed + 1);
    const suffixes: ScanSuffix[] = ['CR', 'LF', 'CRLF', 'Tab'];
    const gapMs = 100;
    const maxLineBytes = 512;

    for (const [round, suffix] of suffixes.entries()) {
      const splitter = new LineSplitter({ suffix, maxLineBytes, gapMs });
      const ending = suffixBytes[suffix];
      let now = 0;

      /** One hostile chunk: random bytes sprinkled with suffixes, or an oversized run. */
      const hostile = (): Uint8Array => {
        if (random() < 0.01) return randomBytes(random, maxLineBytes + Math.floor(random() * 600));
        const bytes = randomBytes(random, Math.floor(random() * 40));
        if (random() < 0.1) bytes[Math.floor(random() * bytes.length)] = pick(random, ending);
        return bytes;
      };

      for (let index = 0; index < inputs / suffixes.length; index += 1) {
        const where = `seed ${seed + 1}, ${suffix} input ${index}`;
        now += random() < 0.05 ? random() * 300 : random() * 5;
        assertTyped(splitter.push(hostile(), now), ['bad_frame', 'timeout'], where);

        if (index % checkEvery !== checkEvery - 1) continue;

        const text = `code-${round}-${index}`;
        now += gapMs + 1;
        const check = splitter.push(Uint8Array.from([...encoder.encode(text), ...ending]), now);
        assertTyped(check, ['bad_frame', 'timeout'], where);
        expect(lastScanText(check), where).toBe(text);
      }
    }
  });
});

describe('fuzzing the keyboard wedge', () => {
  it(`survives ${inputs} random key events and still reads the next burst`, () => {
    const random = seededRandom(seed + 2);
    const wedge = new KeyboardWedge();
    const keys = [
      ...'abcXYZ019-:/._',
      'Enter',
      'Tab',
      'Shift',
      'Process',
      'Dead',
      'Unidentified',
      'Backspace',
      'ArrowLeft',
      '访',
      '，',
      'é',
      '😀',
      'Ａ',
    ];
    const codes = [undefined, 'KeyA', 'KeyQ', 'Digit1', 'Enter', 'Quote'];
    let now = 0;

    /** One hostile event: keys from a mixed pool, compositions, odd times and malformed ones. */
    const hostile = (): WedgeEvent => {
      const kind = random();
      now += random() < 0.1 ? random() * 100 : random() * 8;
      if (kind < 0.05) return { type: 'compositionupdate', data: '访', time: now };
      if (kind < 0.07) return { key: 'a', time: random() < 0.5 ? Number.NaN : now - 500 };
      if (kind < 0.08) return { key: 7, time: now } as unknown as WedgeEvent;
      const isComposing = random() < 0.03;
      return { key: pick(random, keys), code: pick(random, codes), isComposing, time: now };
    };

    for (let index = 0; index < inputs; index += 1) {
      const where = `seed ${seed + 2}, input ${index}`;
      const results = random() < 0.01 ? wedge.flush(now) : wedge.feed(hostile());
      assertTyped(results, ['bad_payload', 'bad_frame'], where);

      if (index % checkEvery !== checkEvery - 1) continue;

      const text = `SCAN-${index}`;
      now += 1_000;
      const burst: WedgeEvent[] = [...text, 'Enter'].map((key, at) => ({
        key,
        time: now + at * 3,
      }));
      now += burst.length * 3;
      const check = burst.flatMap((event) => wedge.feed(event));
      assertTyped(check, ['bad_payload', 'bad_frame'], where);
      expect(lastScanText(check), where).toBe(text);
    }
  });
});
