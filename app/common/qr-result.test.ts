import { describe, expect, it } from 'vitest';
import {
  bytesToHex,
  eciSegments,
  largestFirst,
  toDecodedCode,
  type QrReadResult,
} from './qr-result.js';

const latin1Bytes = (text: string): Uint8Array =>
  Uint8Array.from(text, (char) => char.charCodeAt(0));
const hexBytes = (hex: string): Uint8Array =>
  Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));

/** A read result shaped like zxing-wasm's: `bytesECI` starts with the symbology identifier. */
function readResult(bytes: Uint8Array, bytesEci: Uint8Array, hasECI: boolean): QrReadResult {
  return { bytes, bytesECI: bytesEci, hasECI, format: 'QRCode', isInverted: false };
}

describe('toDecodedCode', () => {
  it('reads a payload without ECI by the charset rules and keeps its raw bytes', () => {
    const bytes = hexBytes('c4e3bac3');
    const withIdentifier = Uint8Array.from([...latin1Bytes(']Q1'), ...bytes]);

    expect(toDecodedCode(readResult(bytes, withIdentifier, false))).toEqual({
      text: '你好',
      bytesHex: 'c4e3bac3',
      charset: 'GB18030',
      format: 'QRCode',
      inverted: false,
    });
  });

  it('honours the ECI the symbol declares over the guess', () => {
    const bytes = hexBytes('c4e3bac3');
    const bytesEci = Uint8Array.from([...latin1Bytes(']Q2\\000020'), ...bytes]);

    const decoded = toDecodedCode(readResult(bytes, bytesEci, true));

    expect(decoded).toMatchObject({ text: 'ﾄ羲ﾃ', charset: 'Shift_JIS', bytesHex: 'c4e3bac3' });
  });

  it('decodes each ECI segment in its own charset and names both', () => {
    const bytes = hexBytes('e4bda0b0a2');
    const bytesEci = Uint8Array.from([
      ...latin1Bytes(']Q2\\000026'),
      ...hexBytes('e4bda0'),
      ...latin1Bytes('\\000029'),
      ...hexBytes('b0a2'),
    ]);

    const decoded = toDecodedCode(readResult(bytes, bytesEci, true));

    expect(decoded).toMatchObject({
      text: '你阿',
      charset: 'UTF-8+GB18030',
      bytesHex: 'e4bda0b0a2',
    });
  });

  it('reports inverted codes and the format zxing found', () => {
    const bytes = latin1Bytes('12345');
    const result = {
      ...readResult(bytes, bytes, false),
      format: 'MicroQRCode' as const,
      isInverted: true,
    };

    expect(toDecodedCode(result)).toMatchObject({
      format: 'MicroQRCode',
      inverted: true,
      text: '12345',
    });
  });
});

describe('eciSegments', () => {
  it('turns doubled backslashes back into one literal backslash', () => {
    const segments = eciSegments(latin1Bytes(']Q2\\000003a\\\\000026b'));

    expect(segments).toEqual([{ eci: '3', bytes: latin1Bytes('a\\000026b') }]);
  });

  it('keeps bytes before the first designator in a segment without ECI', () => {
    const segments = eciSegments(latin1Bytes(']Q2ab\\000026c'));

    expect(segments).toEqual([
      { eci: null, bytes: latin1Bytes('ab') },
      { eci: '26', bytes: latin1Bytes('c') },
    ]);
  });

  it('returns one empty segment for an empty payload', () => {
    expect(eciSegments(latin1Bytes(']Q2\\000026'))).toEqual([
      { eci: '26', bytes: new Uint8Array() },
    ]);
  });
});

describe('bytesToHex', () => {
  it('writes lowercase two-digit hex', () => {
    expect(bytesToHex(Uint8Array.of(0, 10, 255))).toBe('000aff');
  });
});

describe('largestFirst', () => {
  const square = (size: number, name: string) => ({
    name,
    position: {
      topLeft: { x: 0, y: 0 },
      topRight: { x: size, y: 0 },
      bottomRight: { x: size, y: size },
      bottomLeft: { x: 0, y: size },
    },
  });

  it('orders codes by the area they cover, largest first', () => {
    const ordered = largestFirst([
      square(10, 'small'),
      square(50, 'held up'),
      square(20, 'poster'),
    ]);

    expect(ordered.map((result) => result.name)).toEqual(['held up', 'poster', 'small']);
  });

  it('returns an empty list when nothing was found', () => {
    expect(largestFirst([])).toEqual([]);
  });
});
