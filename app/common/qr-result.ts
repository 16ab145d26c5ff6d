/**
 * The one conversion from a zxing-wasm read result to what the kiosk reports about a code, shared
 * by the camera worker in the page and by `kiosk decode` in Node so both read a payload the same
 * way. The text comes from our own charset rules over the raw bytes, never from zxing's guess.
 */
import type { ReadResult, ReaderOptions } from 'zxing-wasm/reader';
import { decodePayload, type DecodedPayload } from './charset.js';

/** A decoded code: the text, the raw bytes behind it, and how they were read. */
export interface DecodedCode {
  text: string;
  /** The payload bytes exactly as the symbol carried them, lowercase hex, ECI markers removed. */
  bytesHex: string;
  charset: string;
  /** zxing's format name: QRCode, MicroQRCode or rMQRCode. */
  format: string;
  /** True when the code was light on dark, as on many phone screens. */
  inverted: boolean;
}

/** The parts of a zxing-wasm ReadResult the conversion needs. */
export type QrReadResult = Pick<
  ReadResult,
  'bytes' | 'bytesECI' | 'hasECI' | 'format' | 'isInverted'
>;

/** A run of payload bytes under one ECI; `eci` is null before the first designator. */
export interface EciSegment {
  eci: string | null;
  bytes: Uint8Array;
}

const backslash = 0x5c;
/** The charset field of a scan report is bounded by the contract. */
const maxCharsetLength = 32;

const baseReaderOptions: ReaderOptions = {
  formats: ['QRCode', 'MicroQRCode', 'rMQRCode'],
  tryHarder: true,
  tryRotate: true,
  // zxing-cpp retries with the inverted image when the normal one yields nothing.
  tryInvert: true,
  tryDownscale: true,
  // Our text comes from the bytes; the plain mode skips zxing's human-readable formatting.
  textMode: 'Plain',
  maxNumberOfSymbols: 8,
};

/**
 * Reader settings tried in order until one finds a code, measured on the QR corpus
 * (bench/decode): the default binarizer reads most images, denoising rescues glare and textured
 * backgrounds, the global-histogram and fixed-threshold binarizers rescue low contrast.
 */
export const readerPasses: readonly ReaderOptions[] = [
  baseReaderOptions,
  { ...baseReaderOptions, tryDenoise: true },
  { ...baseReaderOptions, binarizer: 'GlobalHistogram' },
  { ...baseReaderOptions, binarizer: 'FixedThreshold' },
];

/** Converts one zxing-wasm result into a DecodedCode, reading the bytes with our charset rules. */
export function toDecodedCode(result: QrReadResult): DecodedCode {
  const segments = result.hasECI
    ? eciSegments(result.bytesECI)
    : [{ eci: null, bytes: result.bytes }];
  const readings = segments.map((segment) => decodePayload(segment.bytes, segment.eci));

  return {
    text: readings.map((reading) => reading.text).join(''),
    bytesHex: bytesToHex(result.bytes),
    charset: charsetName(readings),
    format: result.format,
    inverted: result.isInverted,
  };
}

function charsetName(readings: readonly DecodedPayload[]): string {
  const names = [...new Set(readings.map((reading) => reading.charset))];

  return (names.join('+') || 'UTF-8').slice(0, maxCharsetLength);
}

/**
 * Splits zxing's ECI-protocol bytes (ISO/IEC 15424: a `]Q2` symbology identifier, then `\nnnnnn`
 * designators, with literal backslashes doubled) into runs of bytes per ECI.
 */
export function eciSegments(bytesEci: Uint8Array): EciSegment[] {
  const segments: EciSegment[] = [];
  let eci: string | null = null;
  let current: number[] = [];
  let index = hasSymbologyIdentifier(bytesEci) ? 3 : 0;
  while (index < bytesEci.length) {
    const designator = eciDesignatorAt(bytesEci, index);
    if (designator !== null) {
      if (current.length > 0) segments.push({ eci, bytes: Uint8Array.from(current) });
      [eci, current, index] = [designator, [], index + 7];
      continue;
    }

    const isEscapedBackslash = bytesEci[index] === backslash && bytesEci[index + 1] === backslash;
    current.push(bytesEci[index]);
    index += isEscapedBackslash ? 2 : 1;
  }

  if (current.length > 0 || segments.length === 0)
    segments.push({ eci, bytes: Uint8Array.from(current) });
  return segments;
}

function hasSymbologyIdentifier(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 3 &&
    bytes[0] === 0x5d &&
    /^[A-Za-z][0-9A-Za-z]$/.test(String.fromCharCode(bytes[1], bytes[2]))
  );
}

function eciDesignatorAt(bytes: Uint8Array, index: number): string | null {
  if (bytes[index] !== backslash || index + 7 > bytes.length) return null;

  const digits = String.fromCharCode(...bytes.subarray(index + 1, index + 7));
  return /^\d{6}$/.test(digits) ? String(Number(digits)) : null;
}

/** Lowercase hex of a byte array, the form the scan contract carries. */
export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Results ordered by the area they cover, largest first: the code the visitor holds up comes
 * before a poster or a second phone behind them.
 */
export function largestFirst<R extends Pick<ReadResult, 'position'>>(results: readonly R[]): R[] {
  const areas = new Map(results.map((result) => [result, quadrilateralArea(result.position)]));

  return [...results].sort((a, b) => (areas.get(b) ?? 0) - (areas.get(a) ?? 0));
}

function quadrilateralArea({
  topLeft,
  topRight,
  bottomRight,
  bottomLeft,
}: ReadResult['position']): number {
  const corners = [topLeft, topRight, bottomRight, bottomLeft];
  let twiceArea = 0;
  for (let index = 0; index < corners.length; index += 1) {
    const [from, to] = [corners[index], corners[(index + 1) % corners.length]];
    twiceArea += from.x * to.y - to.x * from.y;
  }

  return Math.abs(twiceArea) / 2;
}
