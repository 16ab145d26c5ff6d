import { describe, expect, it } from 'vitest';
import {
  KeyboardWedge,
  type KeyboardWedgeOptions,
  type WedgeEvent,
  type WedgeResult,
} from './keyboard-wedge.js';

/** Key events typing `text` from `start`, `gapMs` apart, with physical codes for letters. */
function typed(text: string, gapMs: number, start = 0, enter = true): WedgeEvent[] {
  const events: WedgeEvent[] = [...text].map((key, index) => ({
    key,
    code: codeFor(key),
    time: start + index * gapMs,
  }));
  if (enter) events.push({ key: 'Enter', code: 'Enter', time: start + text.length * gapMs });
  return events;
}

function codeFor(key: string): string | undefined {
  if (/^[a-z]$/i.test(key)) return `Key${key.toUpperCase()}`;
  if (/^[0-9]$/.test(key)) return `Digit${key}`;
  return undefined;
}

function run(events: WedgeEvent[], options?: KeyboardWedgeOptions): WedgeResult[] {
  const wedge = new KeyboardWedge(options);
  return events.flatMap((event) => wedge.feed(event));
}

const scans = (results: WedgeResult[]) =>
  results.flatMap((result) => (result.kind === 'scan' ? [result.scan.text] : []));
const warnings = (results: WedgeResult[]) =>
  results.flatMap((result) => (result.kind === 'warning' ? [result.warning.code] : []));

describe('KeyboardWedge', () => {
  it('turns a burst of keys 4 ms apart ending in Enter into one scan', () => {
    const results = run(typed('PASS-42:ab', 4));

    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      kind: 'scan',
      scan: {
        text: 'PASS-42:ab',
        source: 'keyboard',
        charset: 'UTF-8',
        bytesHex: '504153532d34323a6162',
      },
    });
  });

  it('ignores a person typing 80 ms a key, Enter included', () => {
    expect(run(typed('hello world', 80))).toEqual([]);
  });

  it('takes no scan from keys 20 ms apart, but says they look like a slow scanner', () => {
    const results = run(typed('abcdefgh', 20));

    expect(scans(results)).toEqual([]);
    expect(warnings(results)).toEqual(['slow_burst']);
    const [result] = results;
    expect(result.kind === 'warning' && result.warning.message).toMatch(
      /20 ms apart.*scanner\.keyboard\.burstGapMs/,
    );
  });

  it('says nothing of keys 20 ms apart that end without Enter', () => {
    const wedge = new KeyboardWedge();
    const results = typed('abcdefgh', 20, 0, false).flatMap((event) => wedge.feed(event));

    expect([...results, ...wedge.flush(10_000)]).toEqual([]);
  });

  it('follows the configured thresholds', () => {
    const slowScanner = { burstGapMs: 25, humanGapMs: 60 };

    expect(scans(run(typed('abcdefgh', 20), slowScanner))).toEqual(['abcdefgh']);
  });

  it('finds a burst typed right after a pause in a person’s typing', () => {
    const events = [...typed('hi', 150, 0, false), ...typed('CODE1234', 3, 1_000)];

    expect(scans(run(events))).toEqual(['CODE1234']);
  });

  it('reads capitals typed with Shift, which does not count as a character', () => {
    const events: WedgeEvent[] = [];
    let time = 0;
    for (const key of 'AbCd') {
      if (key === key.toUpperCase())
        events.push({ key: 'Shift', code: 'ShiftLeft', time: (time += 1) });
      events.push({ key, code: codeFor(key), time: (time += 2) });
    }
    events.push({ key: 'Enter', time: (time += 2) });

    expect(scans(run(events))).toEqual(['AbCd']);
  });

  it('does not take fewer characters than minLength for a scan', () => {
    expect(run(typed('ab', 2))).toEqual([]);
  });

  it('warns ime_active when an input method eats a burst as Process keys', () => {
    const events: WedgeEvent[] = Array.from({ length: 10 }, (_, index) => ({
      key: 'Process',
      code: 'KeyA',
      time: index * 3,
    }));
    const wedge = new KeyboardWedge();
    const results = [...events.flatMap((event) => wedge.feed(event)), ...wedge.flush(1_000)];

    expect(warnings(results)).toEqual(['ime_active']);
    expect(scans(results)).toEqual([]);
  });

  it('warns ime_active for composition events or CJK characters inside a burst', () => {
    const composed: WedgeEvent[] = [
      ...typed('abcd', 3, 0, false),
      { type: 'compositionstart', time: 12 },
      { type: 'compositionend', data: '访客', time: 14 },
      { key: 'Enter', time: 16 },
    ];
    const converted = typed('ab访客cd', 3);

    expect(warnings(run(composed))).toEqual(['ime_active']);
    expect(warnings(run(converted))).toEqual(['ime_active']);
    expect(scans(run(converted))).toEqual([]);
  });

  it('does not warn about a person typing Chinese through an input method', () => {
    const events: WedgeEvent[] = [
      { key: 'Process', code: 'KeyF', time: 0 },
      { type: 'compositionstart', time: 1 },
      { key: 'Process', code: 'KeyK', time: 200 },
      { type: 'compositionend', data: '访客', time: 400 },
      { key: 'Enter', time: 600 },
    ];

    expect(run(events)).toEqual([]);
  });

  it('warns lossy_payload for dead or unidentified keys in a burst, and drops it', () => {
    const events = typed('abcdef', 3);
    events.splice(3, 0, { key: 'Dead', code: 'Quote', time: 7 });
    const unidentified = typed('abcdef', 3);
    unidentified.splice(2, 0, { key: 'Unidentified', time: 5 });

    expect(run(events)).toEqual([
      { kind: 'warning', warning: expect.objectContaining({ code: 'lossy_payload' }) as object },
    ]);
    expect(warnings(run(unidentified))).toEqual(['lossy_payload']);
  });

  it('warns layout_mismatch when letters land on other keys, keeping the scan', () => {
    // AZERTY: the key US calls KeyQ types `a`.
    const events: WedgeEvent[] = [{ key: 'a', code: 'KeyQ', time: 0 }, ...typed('bcde', 3, 3)];

    const results = run(events);

    expect(warnings(results)).toEqual(['layout_mismatch']);
    expect(scans(results)).toEqual(['abcde']);
  });

  it('warns non_ascii for accented characters, keeping the scan', () => {
    const results = run(typed('café-1234', 3));

    expect(warnings(results)).toEqual(['non_ascii']);
    expect(scans(results)).toEqual(['café-1234']);
  });

  it('warns unterminated_burst when a burst ends without Enter', () => {
    const wedge = new KeyboardWedge();
    for (const event of typed('ABCDEFG', 3, 0, false)) wedge.feed(event);

    expect(warnings(wedge.flush(500))).toEqual(['unterminated_burst']);
  });

  it('accepts Tab as the terminator when configured, and as a character otherwise', () => {
    const tabbed = typed('abcde', 3, 0, false).concat({ key: 'Tab', time: 15 });
    const withTab = [...typed('ab', 3, 0, false), { key: 'Tab', time: 6 }, ...typed('cd', 3, 9)];

    expect(scans(run(tabbed, { terminators: ['Tab'] }))).toEqual(['abcde']);
    expect(scans(run(withTab))).toEqual(['ab\tcd']);
  });

  it('drops a burst over maxLength with bad_frame and reads the next one', () => {
    const results = run([...typed('x'.repeat(20), 1), ...typed('short-ok', 1, 100)], {
      maxLength: 10,
    });

    expect(results.map((result) => result.kind)).toEqual(['error', 'scan']);
    expect(scans(results)).toEqual(['short-ok']);
  });

  it('answers malformed events with bad_payload instead of throwing', () => {
    const wedge = new KeyboardWedge();
    const bad = [
      { key: 'a', time: Number.NaN },
      { key: '', time: 1 },
      { key: 42, time: 1 },
      { type: 'keyup', key: 'a', time: 1 },
      null,
    ] as unknown as WedgeEvent[];

    const results = bad.flatMap((event) => wedge.feed(event));

    expect(results.map((result) => result.kind === 'error' && result.error.code)).toEqual(
      Array(bad.length).fill('bad_payload'),
    );
  });

  it('refuses thresholds where a burst would be slower than a person', () => {
    expect(() => new KeyboardWedge({ burstGapMs: 50, humanGapMs: 30 })).toThrow(/burstGapMs/);
  });
});
