/**
 * The kiosk's camera is on only while the visitor is scanning: leaving the scanning screen stops
 * every track, even when the visitor leaves before the camera has finished starting.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './support/kiosk-fixture.js';
import { makeBlankVideo } from './support/video.js';

// The page functions below run in the browser; this project's Node types have no DOM, so they
// describe the little of it they touch.
interface Track {
  readyState: string;
}
interface Stream {
  getTracks(): Track[];
}
interface WatchedPage {
  cameraStreams: Stream[];
  cameraDelayMs: number;
  navigator: { mediaDevices: { getUserMedia(constraints: unknown): Promise<Stream> } };
}

/**
 * Records every stream the page is given, and lets a test slow the camera's start down the way a
 * cold USB camera does.
 */
function watchCameraStreams(): void {
  const page = globalThis as unknown as WatchedPage;
  const devices = page.navigator.mediaDevices;
  const getUserMedia = devices.getUserMedia.bind(devices);
  page.cameraStreams = [];
  page.cameraDelayMs = 0;

  devices.getUserMedia = async (constraints) => {
    const stream = await getUserMedia(constraints);
    await new Promise((resolve) => setTimeout(resolve, page.cameraDelayMs));
    page.cameraStreams.push(stream);
    return stream;
  };
}

/** The readyState of every track of every stream handed to the page so far. */
function trackStates(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    (globalThis as unknown as WatchedPage).cameraStreams.flatMap((stream) =>
      stream.getTracks().map((track) => track.readyState),
    ),
  );
}

async function openWatchedKiosk(kiosk: Parameters<Parameters<typeof test>[2]>[0]['kiosk']) {
  const videoFile = await makeBlankVideo({ out: test.info().outputPath('blank.y4m') });
  const system = await kiosk.start({ videoFile });
  await system.page.addInitScript(watchCameraStreams);
  await system.page.reload();
  await expect(system.page.locator('[data-screen="idle"]')).toBeVisible();
  return system;
}

test('the camera is released when the visitor cancels scanning', async ({ kiosk }) => {
  const { page } = await openWatchedKiosk(kiosk);

  await page.getByTestId('start-scan').click();
  await expect.poll(() => trackStates(page)).toEqual(['live']);
  await page.getByTestId('cancel').click();

  await expect(page.locator('[data-screen="idle"]')).toBeVisible();
  await expect.poll(() => trackStates(page)).toEqual(['ended']);
});

test('the camera is released when scanning stops before the camera finished starting', async ({
  kiosk,
}) => {
  const { page } = await openWatchedKiosk(kiosk);
  await page.evaluate(() => {
    (globalThis as unknown as WatchedPage).cameraDelayMs = 1_500;
  });

  await page.getByTestId('start-scan').click();
  await page.getByTestId('cancel').click();
  await expect(page.locator('[data-screen="idle"]')).toBeVisible();

  // The stream arrives after the scanner was stopped; it must be stopped as soon as it does.
  await expect.poll(() => trackStates(page), { timeout: 10_000 }).toEqual(['ended']);
});
