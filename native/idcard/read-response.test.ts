import { describe, expect, it } from 'vitest';
import { encodeReadData, parseReadFrame, splitReadData } from './read-response.js';
import { encodeSamResponse, samHex } from './sam-protocol.js';
import { encodeTextBlock } from './text-block.js';
import { clockInForce, residentCard } from './testing/cards.js';

const text = encodeTextBlock(residentCard);
// A recognisable photo, so a test can tell whether any of it was kept.
const photo = Uint8Array.from({ length: 1024 }, (_, index) => (index * 7 + 3) & 0xff);

function readFrame(fingerprint?: Uint8Array, status = 0x90): Uint8Array {
  return encodeSamResponse(status, encodeReadData(text, photo, fingerprint));
}

describe('read text + photo answer (30 01)', () => {
  const frame = readFrame();

  it('is the 1295-byte frame HARDWARE.md describes, text at 14 and photo at 270', () => {
    expect(frame.length).toBe(1295);
    expect(samHex(frame.subarray(5, 10))).toBe('05 08 00 00 90');
    expect(samHex(frame.subarray(10, 14))).toBe('01 00 04 00');
    expect(frame.subarray(14, 270)).toEqual(text);
    expect(frame.subarray(270, 1294)).toEqual(photo);
  });

  it('parses into the record and the photo length, keeping none of the photo', () => {
    const read = parseReadFrame(frame, clockInForce);

    expect(read).toEqual({
      record: { ...residentCard, validity: 'valid' },
      photoLength: 1024,
      fingerprintLength: 0,
    });
    expect(Object.values(read.record).some((value) => value instanceof Uint8Array)).toBe(false);
  });
});

describe.each([0x400, 0x200, 0])(
  'read text + photo + fingerprint answer (30 10), %i bytes',
  (size) => {
    const fingerprint = new Uint8Array(size).fill(0x5a);
    const frame = readFrame(fingerprint);

    it('carries three lengths and the text at offset 16', () => {
      expect((frame[5] << 8) | frame[6]).toBe(1288 + 2 + size);
      expect((frame[14] << 8) | frame[15]).toBe(size);
      expect(frame.subarray(16, 272)).toEqual(text);
    });

    it('parses into the record with the fingerprint counted', () => {
      const read = parseReadFrame(frame, clockInForce);

      expect(read.record.idNumber).toBe(residentCard.idNumber);
      expect(read.fingerprintLength).toBe(size);
      expect(read.photoLength).toBe(1024);
    });

    it('is told apart from the 30 01 layout by its lengths', () => {
      expect(splitReadData(frame.subarray(10, frame.length - 1)).layout).toBe(
        'text_photo_fingerprint',
      );
    });
  },
);

describe('read answers that are not a card', () => {
  it.each([
    [0x41, 'card_read_failed'],
    [0x40, 'unknown_card_type'],
    [0x80, 'card_read_failed'],
  ])('turns status %i into a KioskError coded %s', (status, code) => {
    expect(() => parseReadFrame(encodeSamResponse(status))).toThrow(
      expect.objectContaining({
        code,
        message: expect.stringContaining(status.toString(16).toUpperCase()) as string,
      }),
    );
  });

  it('refuses data that its lengths do not add up to', () => {
    const data = encodeReadData(text, photo);
    const short = encodeSamResponse(0x90, data.subarray(0, data.length - 1));

    expect(() => parseReadFrame(short)).toThrow(expect.objectContaining({ code: 'bad_frame' }));
  });

  it('refuses a text block that is not 256 bytes', () => {
    const frame = encodeSamResponse(0x90, encodeReadData(text.subarray(0, 254), photo));

    expect(() => parseReadFrame(frame)).toThrow(expect.objectContaining({ code: 'card_invalid' }));
  });

  it('refuses a frame with a bad checksum as checksum', () => {
    const frame = Uint8Array.from(readFrame());
    frame[100] ^= 0x01;

    expect(() => parseReadFrame(frame)).toThrow(expect.objectContaining({ code: 'checksum' }));
  });
});
