import { describe, expect, it } from 'vitest';
import { blobToBase64, fitJpeg, jpegAttempts, type JpegAttempt } from './jpeg-fit.js';

/** A stand-in encoder whose output shrinks with scale squared and with quality, like JPEG's. */
function fakeEncoder(fullSizeBytes: number) {
  const attempts: JpegAttempt[] = [];
  const encode = (attempt: JpegAttempt): Promise<Blob> => {
    attempts.push(attempt);
    const size = Math.round(fullSizeBytes * attempt.scale ** 2 * attempt.quality);
    return Promise.resolve(new Blob([new Uint8Array(size)], { type: 'image/jpeg' }));
  };

  return { encode, attempts };
}

describe('fitJpeg', () => {
  it('keeps the first, best attempt when it already fits', async () => {
    const { encode, attempts } = fakeEncoder(100_000);

    const blob = await fitJpeg(encode, 512 * 1024);

    expect(attempts).toEqual([jpegAttempts[0]]);
    expect(blob.size).toBe(85_000);
  });

  it('lowers quality, then size, until the photo fits', async () => {
    const { encode, attempts } = fakeEncoder(1_000_000);

    const blob = await fitJpeg(encode, 250_000);

    expect(blob.size).toBeLessThanOrEqual(250_000);
    expect(attempts.at(-1)).toEqual({ scale: 0.5, quality: 0.6 });
  });

  it('refuses with camera_photo_too_large when even the smallest attempt is too big', async () => {
    const { encode } = fakeEncoder(10_000_000);

    await expect(fitJpeg(encode, 1000)).rejects.toMatchObject({ code: 'camera_photo_too_large' });
  });
});

describe('blobToBase64', () => {
  it('encodes bytes as plain base64, without a data: prefix', async () => {
    expect(await blobToBase64(new Blob([new TextEncoder().encode('Man')]))).toBe('TWFu');
  });

  it('round-trips a photo larger than one chunk', async () => {
    const bytes = Uint8Array.from({ length: 100_000 }, (_, index) => (index * 7) % 256);

    const base64 = await blobToBase64(new Blob([bytes]));

    expect(Uint8Array.from(atob(base64), (char) => char.charCodeAt(0))).toEqual(bytes);
  });
});
