/**
 * Checks the harness itself: a fake camera video, played by Chromium and copied from a real
 * getUserMedia stream, must still carry a code a decoder reads back exactly. Needs no kiosk.
 */
import { randomBytes } from 'node:crypto';
import { access, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, test, type TestInfo } from '@playwright/test';
import { launchWithFakeCamera } from './support/browser.js';
import { openCameraProbe, type CameraProbe } from './support/camera-probe.js';
import { decodeQrTexts } from './support/decode.js';
import { screenshotPath } from './support/screens.js';
import { qrCorpusDir } from './support/paths.js';
import {
  encodeY4m,
  makeBlankVideo,
  makeImageVideo,
  makePassVideo,
  rgbToI420,
  type PhonePose,
  type RgbImage,
} from './support/video.js';

// One loop of a default video is 30 frames; two loops bound every search below.
const maxFramesToSearch = 60;

/** Random text shaped like a signed pass (three base64url parts, about 440 characters). */
function jwsLikeText(): string {
  return [24, 260, 64].map((bytes) => randomBytes(bytes).toString('base64url')).join('.');
}

interface CameraSighting {
  decodedText: string | undefined;
  sawFrameWithoutCode: boolean;
  framePng: Buffer;
}

/** Watches camera frames until one decodes, noting whether a frame without a code came first. */
async function watchForCode(
  probe: CameraProbe,
  frameLimit = maxFramesToSearch,
): Promise<CameraSighting> {
  let sawFrameWithoutCode = false;
  let lastPng: Buffer = Buffer.alloc(0);
  for (let count = 0; count < frameLimit; count += 1) {
    const frame = await probe.nextFrame();
    expect(frame.width, 'camera frame width').toBe(640);
    expect(frame.height, 'camera frame height').toBe(480);

    const texts = await decodeQrTexts(frame.png);
    lastPng = frame.png;
    if (texts.length > 0)
      return { decodedText: texts[0], sawFrameWithoutCode, framePng: frame.png };
    sawFrameWithoutCode = true;
  }

  return { decodedText: undefined, sawFrameWithoutCode, framePng: lastPng };
}

async function keepFrame(testInfo: TestInfo, name: string, png: Buffer): Promise<void> {
  await writeFile(screenshotPath(name), png);
  await testInfo.attach(name, { body: png, contentType: 'image/png' });
}

async function withCamera<T>(
  videoFile: string,
  use: (probe: CameraProbe) => Promise<T>,
): Promise<T> {
  const browser = await launchWithFakeCamera(videoFile);
  try {
    const probe = await openCameraProbe(browser);
    return await use(probe);
  } finally {
    await browser.close();
  }
}

for (const pose of ['steady', 'tilted'] as const satisfies readonly PhonePose[]) {
  test(`a ${pose} phone showing a code is read back exactly through Chromium's fake camera`, async () => {
    const testInfo = test.info();
    const text = jwsLikeText();
    const video = await makePassVideo({ text, out: testInfo.outputPath(`${pose}.y4m`), pose });

    const sighting = await withCamera(video, (probe) => watchForCode(probe));
    await keepFrame(testInfo, `fake-camera-${pose}`, sighting.framePng);

    expect(sighting.decodedText).toBe(text);
    expect(sighting.sawFrameWithoutCode, 'the video starts with frames that carry no code').toBe(
      true,
    );
  });
}

test('a blank video never shows a code', async () => {
  const testInfo = test.info();
  const video = await makeBlankVideo({ out: testInfo.outputPath('blank.y4m') });

  const sighting = await withCamera(video, (probe) => watchForCode(probe, 15));
  await keepFrame(testInfo, 'fake-camera-blank', sighting.framePng);

  expect(sighting.decodedText).toBeUndefined();
});

test('a photograph from the QR corpus keeps its code through the fake camera', async () => {
  const testInfo = test.info();
  const image = path.join(qrCorpusDir(), 'zxingjs-qrcode-7/1.png');
  test.skip(
    !(await fileExists(image)),
    `QR corpus not found at ${qrCorpusDir()}: set KIOSK_QR_CORPUS`,
  );
  const expected = await readFile(image.replace(/\.png$/, '.txt'), 'utf8');
  const video = await makeImageVideo({ image, out: testInfo.outputPath('corpus.y4m') });

  const sighting = await withCamera(video, (probe) => watchForCode(probe));
  await keepFrame(testInfo, 'fake-camera-corpus', sighting.framePng);

  expect(sighting.decodedText).toBe(expected);
});

async function fileExists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

test('colours become BT.601 studio-swing YUV, with chroma averaged over each 2x2 block', () => {
  // Left half white, right half pure red; each 2x2 block is one colour.
  const image = solidBlocks(4, 2, (x) => (x < 2 ? [255, 255, 255] : [255, 0, 0]));

  const yuv = rgbToI420(image);

  expect([...yuv.subarray(0, 8)]).toEqual([235, 235, 82, 82, 235, 235, 82, 82]);
  expect([...yuv.subarray(8, 10)], 'U: white is neutral, red is low in blue').toEqual([128, 90]);
  expect([...yuv.subarray(10, 12)], 'V: white is neutral, red is high in red').toEqual([128, 240]);
});

test('a y4m file has one header line and a FRAME mark before each I420 picture', () => {
  const black = solidBlocks(4, 2, () => [0, 0, 0]);
  const white = solidBlocks(4, 2, () => [255, 255, 255]);

  const file = encodeY4m([black, white, black], 10);

  const header = 'YUV4MPEG2 W4 H2 F10:1 Ip A1:1 C420jpeg\n';
  const frameBytes = 'FRAME\n'.length + 4 * 2 * 1.5;
  expect(file.subarray(0, header.length).toString('ascii')).toBe(header);
  expect(file.length).toBe(header.length + 3 * frameBytes);
  expect(
    file.subarray(header.length + frameBytes, header.length + frameBytes + 6).toString('ascii'),
  ).toBe('FRAME\n');
  expect(file[header.length + frameBytes + 6], 'the second picture is white').toBe(235);
});

function solidBlocks(width: number, height: number, colourAt: (x: number) => number[]): RgbImage {
  const data = Buffer.alloc(width * height * 3);
  for (let pixel = 0; pixel < width * height; pixel += 1)
    data.set(colourAt(pixel % width), pixel * 3);
  return { width, height, data };
}
