/**
 * Launches the system Chromium with its camera replaced by a video file. Chromium takes the file
 * as a command-line flag, so every video needs a browser of its own.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from '@playwright/test';

/** The browser every end-to-end test uses; no tool may download another one. */
export const chromiumPath = process.env.KIOSK_CHROMIUM ?? '/usr/bin/chromium';

/** Flags that keep a test browser quiet: no network chatter, no updates, no first-run dialogs. */
export const quietBrowserArgs = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Flags that make Chromium play `videoFile` (a `.y4m`) as the camera and grant camera access. */
export function fakeCameraArgs(videoFile: string): string[] {
  return [
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-video-capture=${videoFile}`,
    '--use-fake-ui-for-media-stream',
    ...quietBrowserArgs,
  ];
}

/** Starts headless Chromium whose camera shows `videoFile` in a loop. */
export async function launchWithFakeCamera(videoFile: string): Promise<Browser> {
  // Chromium silently falls back to its built-in test pattern when the file is missing.
  if (!existsSync(videoFile)) throw new Error(`fake camera video ${videoFile} does not exist`);

  return chromium.launch({
    executablePath: chromiumPath,
    args: fakeCameraArgs(videoFile),
    timeout: 30_000,
  });
}
