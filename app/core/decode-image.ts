/**
 * Decodes QR codes from image files and pixel buffers in Node, with the same zxing-wasm reader,
 * reader passes and charset rules as the camera worker in the page. Backs `kiosk decode` and the
 * decode benchmark. The WebAssembly module is read from node_modules: nothing is fetched.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { prepareZXingModule, readBarcodes } from 'zxing-wasm/reader';
import { KioskError } from '../common/errors.js';
import {
  largestFirst,
  readerPasses,
  toDecodedCode,
  type DecodedCode,
} from '../common/qr-result.js';
import { moduleLogger } from './log.js';

export type { DecodedCode } from '../common/qr-result.js';

const log = moduleLogger('decode-image');
const require = createRequire(import.meta.url);

let readerReady: Promise<unknown> | null = null;

/** Loads the zxing reader once, from the .wasm file shipped in node_modules. */
function prepareReader(): Promise<unknown> {
  readerReady ??= readFile(require.resolve('zxing-wasm/reader/zxing_reader.wasm')).then((wasm) =>
    prepareZXingModule({
      overrides: {
        wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength),
      },
      fireImmediately: true,
    }),
  );

  return readerReady;
}

/** Decodes the largest QR, Micro QR or rMQR code in an image file (any format sharp reads). */
export async function decodeImageFile(path: string): Promise<DecodedCode> {
  const { data, width, height } = await readPixels(path);

  try {
    return await decodeImageData(data, width, height);
  } catch (error) {
    if (error instanceof KioskError)
      throw new KioskError(error.code, `${path}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** RGBA pixels of an image file, flattened onto white so a transparent background reads as paper. */
export async function readPixels(
  path: string,
): Promise<{ data: Uint8ClampedArray; width: number; height: number }> {
  try {
    const { data, info } = await sharp(path)
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength), ...info };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new KioskError('decode_failed', `${path} is not a readable image: ${reason}`, {
      cause: error,
    });
  }
}

/** Decodes the largest code in RGBA pixels (4 bytes a pixel, rows top to bottom). */
export async function decodeImageData(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
): Promise<DecodedCode> {
  const codes = await decodeAllImageData(rgba, width, height);
  const [largest] = codes;
  if (largest === undefined) throw new KioskError('decode_failed', 'no QR code found in the image');

  return largest;
}

/** Every code in RGBA pixels, largest first; empty when there is none. */
export async function decodeAllImageData(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
): Promise<DecodedCode[]> {
  assertPixelBuffer(rgba, width, height);
  await prepareReader();

  const data =
    rgba instanceof Uint8ClampedArray
      ? rgba
      : new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  const image = { data, width, height };
  const started = performance.now();
  for (const [pass, options] of readerPasses.entries()) {
    const results = await readBarcodes(image, options);
    if (results.length === 0) continue;

    const ms = Math.round(performance.now() - started);
    log.debug({ width, height, pass, found: results.length, ms }, 'decode: found codes');
    return largestFirst(results).map(toDecodedCode);
  }

  log.debug({ width, height, ms: Math.round(performance.now() - started) }, 'decode: no code');
  return [];
}

function assertPixelBuffer(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
): void {
  const sizeIsValid =
    Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0;
  if (!sizeIsValid || rgba.length !== width * height * 4) {
    throw new KioskError(
      'decode_failed',
      `expected ${width}x${height} RGBA pixels, got ${rgba.length} bytes`,
    );
  }
}
