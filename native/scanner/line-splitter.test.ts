import { describe, expect, it } from 'vitest';
import { LineSplitter, type LineResult, type ScanSuffix } from './line-splitter.js';

const encoder = new TextEncoder();

function texts(results: LineResult[]): string[] {
  return results.flatMap((result) => (result.kind === 'scan' ? [result.scan.text] : []));
}

function codes(results: LineResult[]): string[] {
  return results.flatMap((result) => (result.kind === 'error' ? [result.error.code] : []));
}

const endings: Record<ScanSuffix, string> = { CR: '\r', LF: '\n', CRLF: '\r\n', Tab: '\t' };

describe('LineSplitter', () => {
  it.each(Object.entries(endings) as [ScanSuffix, string][])(
    'cuts codes at %s, wherever the chunks split them',
    (suffix, ending) => {
      const splitter = new LineSplitter({ suffix });
      const stream = encoder.encode(`one${ending}two${ending}`);

      const results = [...stream].flatMap((byte) => splitter.push(Uint8Array.of(byte), 0));

      expect(texts(results)).toEqual(['one', 'two']);
    },
  );

  it('keeps a lone CR inside a code when the suffix is CR LF', () => {
    const splitter = new LineSplitter({ suffix: 'CRLF' });

    expect(texts(splitter.push(encoder.encode('a\rb\r\n'), 0))).toEqual(['a\rb']);
  });

  it('reads CR LF endings on a splitter set to CR or to LF', () => {
    for (const suffix of ['CR', 'LF'] as const) {
      const splitter = new LineSplitter({ suffix });
      expect(texts(splitter.push(encoder.encode('a\r\nb\r\n'), 0))).toEqual(['a', 'b']);
    }
  });

  it('skips empty lines', () => {
    expect(texts(new LineSplitter().push(encoder.encode('\r\r\rx\r'), 0))).toEqual(['x']);
  });

  it('drops an oversized line once with bad_frame, resyncing at the next suffix', () => {
    const splitter = new LineSplitter({ maxLineBytes: 10 });

    const results = [
      ...splitter.push(encoder.encode('0123456789abcdef'), 0),
      ...splitter.push(encoder.encode('ghij\rnext\r'), 1),
    ];

    expect(codes(results)).toEqual(['bad_frame']);
    expect(texts(results)).toEqual(['next']);
  });

  it('accepts a code of exactly the limit with a CR LF ending', () => {
    const splitter = new LineSplitter({ suffix: 'CRLF', maxLineBytes: 4 });

    expect(texts(splitter.push(encoder.encode('abcd\r\n'), 0))).toEqual(['abcd']);
  });

  it('drops a part-line left longer than the gap, with timeout', () => {
    const splitter = new LineSplitter({ gapMs: 100 });

    splitter.push(encoder.encode('stale'), 0);
    const results = splitter.push(encoder.encode('fresh\r'), 150);

    expect(codes(results)).toEqual(['timeout']);
    expect(texts(results)).toEqual(['fresh']);
  });

  it('names the suffix a dropped line ended with when it is not the configured one', () => {
    const splitter = new LineSplitter({ suffix: 'CR', gapMs: 100 });

    splitter.push(encoder.encode('PASS-1\n'), 0);
    expect(splitter.pending).toBe(true);
    expect(splitter.expire(50)).toEqual([]);
    const [result] = splitter.expire(100);

    expect(result).toMatchObject({ kind: 'error', error: { code: 'timeout' } });
    expect(result.kind === 'error' && result.error.message).toContain(
      'ended with LF, but suffix is CR',
    );
    expect(splitter.pending).toBe(false);
  });

  it('names the configured suffix when a dropped line ends with none', () => {
    const splitter = new LineSplitter({ suffix: 'CRLF', gapMs: 100 });

    splitter.push(encoder.encode('PASS-1'), 0);
    const [result] = splitter.expire(150);

    expect(result.kind === 'error' && result.error.message).toMatch(/without the suffix CRLF$/);
  });

  it('decodes a GBK line with the project charset rules', () => {
    const bytes = Uint8Array.from([0xb7, 0xc3, 0xbf, 0xcd, 0x0d]);

    const [result] = new LineSplitter().push(bytes, 0);

    expect(result).toMatchObject({ kind: 'scan', scan: { text: '访客', charset: 'GB18030' } });
  });
});
