import { describe, expect, it } from 'vitest';
import { hasCode } from '../../app/common/errors.js';
import {
  HidPosParser,
  hidPosLayouts,
  resolveHidPosLayout,
  type HidPosLayoutName,
  type HidPosResult,
} from './hid-pos-parser.js';
import { encodeHidPosReports } from './testing/hid-pos-device.js';

const encoder = new TextEncoder();

function scansOf(results: HidPosResult[]): string[] {
  return results.flatMap((result) => (result.kind === 'scan' ? [result.scan.text] : []));
}

function errorsOf(results: HidPosResult[]): string[] {
  return results.flatMap((result) => (result.kind === 'error' ? [result.error.code] : []));
}

function feed(parser: HidPosParser, reports: Uint8Array[], at = 0): HidPosResult[] {
  return reports.flatMap((report) => parser.push(report, at));
}

describe.each<HidPosLayoutName>(['newland', 'honeywell'])('the %s HID-POS layout', (name) => {
  const layout = resolveHidPosLayout(name);

  it('reads a short code from one report', () => {
    const parser = new HidPosParser(layout);

    const results = feed(parser, encodeHidPosReports(layout, encoder.encode('ABC-123')));

    expect(scansOf(results)).toEqual(['ABC-123']);
    expect(parser.pending).toBe(false);
  });

  it('joins a code spread over several reports', () => {
    const parser = new HidPosParser(layout);
    const text = 'q'.repeat(layout.maxData * 3 + 7);
    const reports = encodeHidPosReports(layout, encoder.encode(text));

    expect(reports).toHaveLength(4);
    expect(scansOf(feed(parser, reports))).toEqual([text]);
  });

  it('ignores reports with another report ID', () => {
    const parser = new HidPosParser(layout);
    const [report] = encodeHidPosReports(layout, encoder.encode('x'));
    report[0] = 0x04;

    expect(parser.push(report, 0)).toEqual([]);
  });

  it('refuses a length byte longer than the report can hold, and reads the next code', () => {
    const parser = new HidPosParser(layout);
    const [bad] = encodeHidPosReports(layout, encoder.encode('x'));
    bad[layout.lengthAt] = layout.maxData + 1;

    expect(errorsOf(parser.push(bad, 0))).toEqual(['bad_frame']);
    expect(scansOf(feed(parser, encodeHidPosReports(layout, encoder.encode('ok'))))).toEqual([
      'ok',
    ]);
  });

  it('starts afresh when a new code arrives after the gap', () => {
    const parser = new HidPosParser(layout, 100);
    const long = encodeHidPosReports(layout, encoder.encode('z'.repeat(layout.maxData + 5)));

    parser.push(long[0], 0);
    const results = feed(parser, encodeHidPosReports(layout, encoder.encode('next')), 500);

    expect(scansOf(results).at(-1)).toBe('next');
  });
});

describe('HID-POS layout differences', () => {
  it('abandons a Honeywell code whose last report never came, with a timeout error', () => {
    const layout = resolveHidPosLayout('honeywell');
    const parser = new HidPosParser(layout, 100);
    const reports = encodeHidPosReports(layout, encoder.encode('w'.repeat(100)));

    parser.push(reports[0], 0);

    expect(parser.expire(50)).toEqual([]);
    expect(errorsOf(parser.expire(150))).toEqual(['timeout']);
    expect(parser.pending).toBe(false);
  });

  it('completes a Newland code that filled its last report once the gap passes', () => {
    const layout = resolveHidPosLayout('newland');
    const parser = new HidPosParser(layout, 100);
    const text = 'n'.repeat(layout.maxData * 2);

    expect(feed(parser, encodeHidPosReports(layout, encoder.encode(text)))).toEqual([]);
    expect(scansOf(parser.expire(100))).toEqual([text]);
  });

  it('keeps the Newland symbology byte and the Honeywell AIM identifier', () => {
    const newland = resolveHidPosLayout('newland');
    const honeywell = resolveHidPosLayout('honeywell');
    const payload = encoder.encode('sym');

    const [fromNewland] = feed(
      new HidPosParser(newland),
      encodeHidPosReports(newland, payload, { symbology: 0x31 }),
    );
    const [fromHoneywell] = feed(
      new HidPosParser(honeywell),
      encodeHidPosReports(honeywell, payload, { aim: ']d1' }),
    );

    expect(fromNewland).toMatchObject({ kind: 'scan', scan: { symbology: '0x31' } });
    expect(fromHoneywell).toMatchObject({ kind: 'scan', scan: { symbology: ']d1' } });
  });

  it('reads a report whose offsets are overridden for a scanner that differs', () => {
    const layout = resolveHidPosLayout('honeywell', { dataAt: 4, aimAt: 1, lengthAt: 62 });
    const report = new Uint8Array(64);
    report.set([0x02], 0);
    report.set(encoder.encode(']Q1'), 1);
    report.set(encoder.encode('shifted'), 4);
    report[62] = 7;

    expect(scansOf(new HidPosParser(layout).push(report, 0))).toEqual(['shifted']);
  });

  it('drops a code over the contract limit and the rest of its reports, then reads the next', () => {
    const layout = resolveHidPosLayout('honeywell');
    const parser = new HidPosParser(layout);
    const huge = encodeHidPosReports(layout, new Uint8Array(9_000).fill(0x41));

    const results = feed(parser, huge);

    expect(errorsOf(results)).toEqual(['bad_frame']);
    expect(scansOf(results)).toEqual([]);
    expect(scansOf(feed(parser, encodeHidPosReports(layout, encoder.encode('fine'))))).toEqual([
      'fine',
    ]);
  });

  it('names both layouts', () => {
    expect(Object.keys(hidPosLayouts)).toEqual(['newland', 'honeywell']);
    expect(hidPosLayouts.honeywell.enableFeatureReport).toEqual([0xfe, 0x01]);
  });

  it('refuses an unknown layout name or offsets past the report', () => {
    const unknown = () => resolveHidPosLayout('zebra' as HidPosLayoutName);
    const pastEnd = () => resolveHidPosLayout('newland', { dataAt: 240 });

    for (const attempt of [unknown, pastEnd]) {
      let thrown: unknown;
      try {
        attempt();
      } catch (error) {
        thrown = error;
      }
      expect(hasCode(thrown, 'config_invalid')).toBe(true);
    }
  });
});
