/**
 * The answer to "read text + photo" (30 01) and "read text + photo + fingerprint" (30 10). After
 * SW3 come two or three big-endian lengths, then the text, the photo and the fingerprint. In a
 * whole frame the text starts at offset 14 (30 01) or 16 (30 10): the frame's 5 preamble bytes,
 * 2 LEN bytes and 3 status bytes come first, so in a response's `data` it starts at 4 or 6.
 */
import { KioskError } from '../../app/common/errors.js';
import { type CardClock, type IdCardRead } from './id-record.js';
import { decodeSamResponseFrame, samStatus, type SamResponse } from './sam-protocol.js';
import { statusError } from './sam-status.js';
import { parseTextBlock, textBlockLength } from './text-block.js';

/** Offset of the first byte after SW3 in a whole frame: preamble, LEN and SW1 SW2 SW3. */
export const responseDataOffset = 10;

/** The two answers, told apart by how many lengths precede the text. */
export type ReadLayout = 'text_photo' | 'text_photo_fingerprint';

/** Where the parts of a read answer lie in its `data`. */
export interface ReadParts {
  layout: ReadLayout;
  text: Uint8Array;
  photoLength: number;
  fingerprintLength: number;
}

/**
 * Splits a read answer's data into its parts. The layout is told by which count of lengths adds
 * up to the data exactly: it cannot be both, since the third length would have to be -2.
 */
export function splitReadData(data: Uint8Array): ReadParts {
  const lengths = (count: number): number[] =>
    Array.from({ length: count }, (_, index) => (data[2 * index] << 8) | data[2 * index + 1]);
  const fits = (count: number): boolean =>
    data.length >= 2 * count &&
    lengths(count).reduce((sum, n) => sum + n, 2 * count) === data.length;

  const count = fits(2) ? 2 : fits(3) ? 3 : 0;
  if (count === 0) {
    throw new KioskError(
      'bad_frame',
      `read answer of ${data.length} bytes does not match its lengths`,
    );
  }

  const [textLength, photoLength, fingerprintLength = 0] = lengths(count) as [
    number,
    number,
    number?,
  ];
  if (textLength !== textBlockLength) {
    throw new KioskError('card_invalid', `text of ${textLength} bytes, not ${textBlockLength}`);
  }

  const start = 2 * count;
  return {
    layout: count === 2 ? 'text_photo' : 'text_photo_fingerprint',
    text: data.slice(start, start + textLength),
    photoLength,
    fingerprintLength,
  };
}

/** Parses a read answer into a record; the photo and fingerprint bytes are left behind. */
export function parseReadResponse(response: SamResponse, clock: CardClock = {}): IdCardRead {
  if (response.status !== samStatus.success) throw statusError(response.status, 'read');

  const parts = splitReadData(response.data);
  return {
    record: parseTextBlock(parts.text, clock),
    photoLength: parts.photoLength,
    fingerprintLength: parts.fingerprintLength,
  };
}

/** Parses a whole read answer frame, as captured on the wire. */
export function parseReadFrame(frame: Uint8Array, clock: CardClock = {}): IdCardRead {
  return parseReadResponse(decodeSamResponseFrame(frame), clock);
}

/**
 * Builds a read answer's data from its parts, as a reader sends it: with `fingerprint` (even an
 * empty one) the 30 10 layout of three lengths, without it the 30 01 layout of two.
 */
export function encodeReadData(
  text: Uint8Array,
  photo: Uint8Array,
  fingerprint?: Uint8Array,
): Uint8Array {
  const parts = fingerprint ? [text, photo, fingerprint] : [text, photo];
  const lengths = Buffer.alloc(2 * parts.length);
  parts.forEach((part, index) => lengths.writeUInt16BE(part.length, 2 * index));
  return Uint8Array.from(Buffer.concat([lengths, ...parts]));
}
