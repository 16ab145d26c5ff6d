/**
 * What every scanner driver delivers: the camera's scan shape (text, raw bytes as hex, charset)
 * plus the kind of scanner it came from and the bytes themselves. The text always comes from the
 * project's charset rules over the raw bytes, never from a device's own guess, so a GBK pass reads
 * the same from the camera, a HID-POS scanner or a serial one. Pure: no Node or DOM imports.
 */
import { decodePayload, type DecodedPayload } from './charset.js';
import { bytesToHex, eciSegments } from './qr-result.js';
import type { ScanReport } from '../contract/api.js';

/** The kind of scanner a scan came from. */
export type ScannerSource = 'hid-pos' | 'serial' | 'keyboard';

/** One code read by a scanner. */
export interface ScannerScan extends Omit<ScanReport, 'source'> {
  /** The payload bytes exactly as the scanner sent them (ECI escapes removed), for verifiers. */
  bytes: Uint8Array;
  source: ScannerSource;
  /** The AIM symbology identifier (e.g. `]Q1`) or the vendor's symbology byte as hex, if sent. */
  symbology?: string;
}

/** Longest payload a scanner driver accepts, in bytes: the contract's limit on scanned text. */
export const maxScanBytes = 8192;

// The charset field of a scan report is bounded by the contract.
const maxCharsetLength = 32;

/** Builds a scan from raw payload bytes; `eciProtocol` when the data carries `\nnnnnn` escapes. */
export function scanFromBytes(
  payload: Uint8Array,
  source: ScannerSource,
  options: { eciProtocol?: boolean; symbology?: string } = {},
): ScannerScan {
  const segments = options.eciProtocol ? eciSegments(payload) : [{ eci: null, bytes: payload }];
  const readings = segments.map((segment) => decodePayload(segment.bytes, segment.eci));
  const bytes = options.eciProtocol ? concat(segments.map((segment) => segment.bytes)) : payload;

  const scan: ScannerScan = {
    text: readings.map((reading) => reading.text).join(''),
    bytesHex: bytesToHex(bytes),
    charset: charsetName(readings),
    bytes,
    source,
  };
  if (options.symbology !== undefined) scan.symbology = options.symbology;
  return scan;
}

/**
 * True when an AIM symbology identifier says the data uses the ECI protocol: QR Code modifiers
 * 2, 4 and 6 and Data Matrix modifiers 4, 5 and 6 (ISO/IEC 15424). Without it a backslash in the
 * data is just a backslash.
 */
export function aimUsesEci(aim: string | undefined): boolean {
  if (aim === undefined || aim.length !== 3 || aim[0] !== ']') return false;

  const [symbology, modifier] = [aim[1], aim[2]];
  if (symbology === 'Q') return modifier === '2' || modifier === '4' || modifier === '6';
  if (symbology === 'd') return modifier === '4' || modifier === '5' || modifier === '6';
  return false;
}

/** The scan as the core's contract carries it from any source other than the camera. */
export function toScanReport(scan: ScannerScan): ScanReport {
  return { text: scan.text, bytesHex: scan.bytesHex, charset: scan.charset, source: 'scanner' };
}

function charsetName(readings: readonly DecodedPayload[]): string {
  const names = [...new Set(readings.map((reading) => reading.charset))];
  return (names.join('+') || 'UTF-8').slice(0, maxCharsetLength);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];

  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
