/**
 * The QR decoder, off the page's main thread. It runs zxing-wasm's reader with the .wasm file
 * that Vite bundles beside the page (the page's CSP and an offline kiosk allow nothing else) and
 * converts results with the same rules as `kiosk decode`.
 */
import { prepareZXingModule, readBarcodes } from 'zxing-wasm/reader';
import wasmUrl from 'zxing-wasm/reader/zxing_reader.wasm?url';
import { largestFirst, readerPasses, toDecodedCode } from '../../common/qr-result.js';
import type { DecodeReply, DecodeRequest } from './decoder-protocol.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;

// Without this, zxing-wasm would fetch its .wasm from a CDN.
prepareZXingModule({
  overrides: {
    locateFile: (path: string, prefix: string) =>
      path.endsWith('.wasm') ? wasmUrl : prefix + path,
  },
});

let framesDecoded = 0;

scope.addEventListener('message', (event: MessageEvent<DecodeRequest>) => {
  const { id, frame } = event.data;
  decodeFrame(frame).then(
    (codes) => reply({ id, codes }),
    (error: unknown) => {
      console.error('[decoder.worker] decode: failed', { id, reason: String(error) });
      reply({ id, error: 'camera_decoder_failed' });
    },
  );
});

function reply(message: DecodeReply): void {
  scope.postMessage(message);
}

/**
 * Every frame gets the main reader pass, which already retries the inverted image when the
 * normal one yields nothing (light-on-dark phone screens). A frame where it finds nothing also
 * gets one of the other passes, in turn, so a hard code meets every binarizer within a few frames
 * without making each frame four times slower.
 */
async function decodeFrame(frame: ImageData | ImageBitmap) {
  const image = frame instanceof ImageData ? frame : bitmapPixels(frame);
  const [mainPass, ...otherPasses] = readerPasses;
  framesDecoded += 1;

  let results = await readBarcodes(image, mainPass);
  if (results.length === 0 && otherPasses.length > 0) {
    results = await readBarcodes(image, otherPasses[framesDecoded % otherPasses.length]);
  }

  return largestFirst(results).map(toDecodedCode);
}

function bitmapPixels(bitmap: ImageBitmap): ImageData {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('no 2D context in the worker');

  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return context.getImageData(0, 0, canvas.width, canvas.height);
}
