/**
 * Makes the visitor photo fit the contract's size limit: each attempt encodes the frame smaller or
 * at a lower quality than the last, so a bright, detailed scene still yields a photo rather than
 * a refusal.
 */
import { CameraError } from './camera-error.js';

/** One encoding attempt: the share of the frame's width and height kept, and the JPEG quality. */
export interface JpegAttempt {
  scale: number;
  quality: number;
}

/** Attempts in order, best first: quality drops before size, since a face needs resolution. */
export const jpegAttempts: readonly JpegAttempt[] = [
  { scale: 1, quality: 0.85 },
  { scale: 1, quality: 0.7 },
  { scale: 1, quality: 0.55 },
  { scale: 0.75, quality: 0.6 },
  { scale: 0.5, quality: 0.6 },
  { scale: 0.35, quality: 0.5 },
  { scale: 0.25, quality: 0.4 },
];

/** The first encoding that fits in `maxBytes`; throws camera_photo_too_large when none does. */
export async function fitJpeg(
  encode: (attempt: JpegAttempt) => Promise<Blob>,
  maxBytes: number,
): Promise<Blob> {
  let smallest = Infinity;
  for (const attempt of jpegAttempts) {
    const blob = await encode(attempt);
    if (blob.size <= maxBytes) return blob;

    smallest = Math.min(smallest, blob.size);
  }

  throw new CameraError(
    'camera_photo_too_large',
    `photo: smallest encoding was ${smallest} bytes, limit ${maxBytes}`,
  );
}

/** Base64 of a blob's bytes, without a data: prefix, as the photo contract carries it. */
export async function blobToBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const chunkSize = 0x8000;
  let binary = '';
  // Chunks keep String.fromCharCode's argument list within engine limits for large photos.
  for (let start = 0; start < bytes.length; start += chunkSize) {
    binary += String.fromCharCode(...bytes.subarray(start, start + chunkSize));
  }

  return btoa(binary);
}
