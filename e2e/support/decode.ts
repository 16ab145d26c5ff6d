/**
 * Reads QR codes in Node with the same decoder family the kiosk page uses (ZXing C++ as
 * WebAssembly), so a test can prove that a fake camera frame really carries a readable code.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { prepareZXingModule, readBarcodes } from 'zxing-wasm/reader';

let ready: Promise<unknown> | undefined;

/** Loads the decoder from node_modules; by default zxing-wasm would fetch it from a CDN. */
function prepareDecoder(): Promise<unknown> {
  ready ??= (async () => {
    const wasmFile = createRequire(import.meta.url).resolve('zxing-wasm/reader/zxing_reader.wasm');
    const wasm = await readFile(wasmFile);
    const wasmBinary = wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength);
    return prepareZXingModule({ overrides: { wasmBinary }, fireImmediately: true });
  })();
  return ready;
}

/** Decodes every QR code in an image (a file path or encoded image bytes); [] when none is found. */
export async function decodeQrTexts(image: string | Buffer): Promise<string[]> {
  await prepareDecoder();

  const { data, info } = await sharp(image)
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const pixels = new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength);
  const results = await readBarcodes(
    { data: pixels, width: info.width, height: info.height, colorSpace: 'srgb' },
    { formats: ['QRCode'], tryHarder: true, tryInvert: true },
  );

  return results.filter((result) => result.isValid).map((result) => result.text);
}
