/**
 * Looks through a fake camera the way the kiosk page does: a page on loopback HTTP (a secure
 * context, so getUserMedia works) opens the camera, and each new video frame can be copied out as
 * a PNG for a decoder or a person to inspect.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from '@playwright/test';

/** An open camera page; `nextFrame` waits for the camera's next frame and returns it as PNG. */
export interface CameraProbe {
  page: Page;
  nextFrame(): Promise<{ png: Buffer; width: number; height: number }>;
  close(): Promise<void>;
}

interface FrameCopy {
  dataUrl: string;
  width: number;
  height: number;
}

// The page's script is plain JavaScript in the served HTML: the Node side's types know no DOM.
const probeHtml = `<!doctype html><html><body style="margin:0;background:#000">
<video id="camera" autoplay muted playsinline></video><canvas id="frame" hidden></canvas>
<script>
const video = document.getElementById('camera');
const canvas = document.getElementById('frame');
const frameTimeoutMs = 5000;

function nextVideoFrame() {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no camera frame within ' + frameTimeoutMs + ' ms')), frameTimeoutMs);
    video.requestVideoFrameCallback(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

window.probe = {
  async start() {
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
    await nextVideoFrame();
  },
  async copyNextFrame() {
    await nextVideoFrame();
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d').drawImage(video, 0, 0);
    return { dataUrl: canvas.toDataURL('image/png'), width: canvas.width, height: canvas.height };
  },
};
</script>
</body></html>`;

/** Opens a page in `browser` that shows the camera; resolves once the first frame has arrived. */
export async function openCameraProbe(browser: Browser): Promise<CameraProbe> {
  const server = await serveProbePage();
  const page = await browser.newPage();
  try {
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.evaluate('window.probe.start()');
  } catch (error) {
    await page.close();
    await stopServer(server);
    throw error;
  }

  return {
    page,
    nextFrame: () => grabNextFrame(page),
    close: async () => {
      await page.close();
      await stopServer(server);
    },
  };
}

function serveProbePage(): Promise<Server> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(probeHtml);
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function stopServer(server: Server): Promise<void> {
  // A browser keeps idle connections open; without this, close() would wait for them.
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function grabNextFrame(page: Page): Promise<{ png: Buffer; width: number; height: number }> {
  const frame = await page.evaluate<FrameCopy>('window.probe.copyNextFrame()');
  return {
    png: Buffer.from(frame.dataUrl.slice(frame.dataUrl.indexOf(',') + 1), 'base64'),
    width: frame.width,
    height: frame.height,
  };
}
