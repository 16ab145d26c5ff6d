/**
 * Calls on loopback, timed in the pages themselves: the kiosk page (browser host, fake camera and
 * microphone) presses its call key, the guard console sees the ringing card, the guard answers,
 * and each side waits for its first decoded video frame (getStats framesDecoded > 0 on the page's
 * newest peer connection). Every timestamp is taken in a page with performance.timeOrigin +
 * performance.now(), so no round trip to the benchmark process is counted.
 */
import type { Page } from '@playwright/test';
import { callKey, startSite, type GuardConsole } from '../../e2e/support/intercom.js';

/** One call's figures, in milliseconds. */
export interface CallTiming {
  /** Key down in the kiosk page → the ringing card about to be painted in the console. */
  ringMs: number;
  /** The guard's click on Answer → first video frame decoded in the console (the visitor). */
  guardFirstFrameMs: number;
  /** The guard's click on Answer → first video frame decoded in the kiosk page (the guard). */
  kioskFirstFrameMs: number;
}

/** How the calls run. */
export interface CallsOptions {
  calls: number;
  progress(text: string): void;
}

const stepTimeoutMs = 20_000;

// Plain JavaScript run in the pages: the benchmark is compiled for Node and knows no DOM types.
const pageClock = 'performance.timeOrigin + performance.now()';

/** Arms the kiosk page: the time of the call key's press, then the first frame of the next call. */
const armKiosk = `(() => {
  const bench = { pressAt: null, frameAt: null, peersBefore: (window.__peers || []).length };
  window.__bench = bench;
  window.addEventListener('keydown', (event) => {
    if (event.code === '${callKey}' && bench.pressAt === null) bench.pressAt = ${pageClock};
  }, { capture: true, once: true });
})()`;

/** Arms the console: the time the ringing card appears and the time Answer is clicked. */
const armConsole = `(() => {
  const bench = { ringAt: null, answerAt: null, frameAt: null, peersBefore: (window.__peers || []).length };
  window.__bench = bench;
  const ringing = () => document.querySelector('[data-testid="incoming-call"]');
  const observer = new MutationObserver(() => {
    if (!ringing()) return;
    observer.disconnect();
    // The card is in the document; the next animation frame is when it is painted.
    requestAnimationFrame(() => { bench.ringAt = ${pageClock}; });
  });
  observer.observe(document.body, { childList: true, subtree: true });
  document.addEventListener('click', (event) => {
    if (bench.answerAt === null && event.target.closest('[data-testid="answer"]')) bench.answerAt = ${pageClock};
  }, { capture: true });
})()`;

/** Polls the page's newest peer connection (made after arming) until a video frame is decoded. */
const watchFirstFrame = `(() => {
  const bench = window.__bench;
  const poll = async () => {
    const peers = window.__peers || [];
    if (peers.length > bench.peersBefore) {
      const report = await peers[peers.length - 1].getStats();
      let frames = 0;
      report.forEach((entry) => {
        if (entry.type === 'inbound-rtp' && entry.kind === 'video') frames += entry.framesDecoded || 0;
      });
      if (frames > 0) {
        bench.frameAt = ${pageClock};
        return;
      }
    }
    setTimeout(poll, 5);
  };
  void poll();
})()`;

/** Runs `options.calls` calls between one kiosk and one guard; stops everything it started. */
export async function timeCalls(options: CallsOptions): Promise<CallTiming[]> {
  const site = await startSite({
    kiosk: { timeouts: { callEndedSeconds: 2 } },
  });
  const timings: CallTiming[] = [];

  try {
    // The guard shares the camera, so the kiosk has a first video frame to wait for too.
    const guard = await site.openConsole('anna', { shareCamera: true });
    const kiosk = site.kiosk.page;
    await untilTrue(kiosk, `!document.querySelector('[data-testid="call-guard"]')?.disabled`);

    for (let call = 1; call <= options.calls; call += 1) {
      timings.push(await timeOneCall(kiosk, guard));
      options.progress(`call ${call}/${options.calls}`);
    }
  } finally {
    await site.stop();
  }
  return timings;
}

async function timeOneCall(kiosk: Page, guard: GuardConsole): Promise<CallTiming> {
  await kiosk.evaluate(armKiosk);
  await guard.page.evaluate(armConsole);

  await kiosk.keyboard.press(callKey);
  await untilTrue(guard.page, 'window.__bench.ringAt !== null');
  await kiosk.evaluate(watchFirstFrame);
  await guard.page.evaluate(watchFirstFrame);
  await guard.incomingCall().getByTestId('answer').click({ timeout: stepTimeoutMs });
  await untilTrue(guard.page, 'window.__bench.frameAt !== null');
  await untilTrue(kiosk, 'window.__bench.frameAt !== null');

  const kioskMarks = await kiosk.evaluate<{ pressAt: number; frameAt: number }>('window.__bench');
  const guardMarks = await guard.page.evaluate<{
    ringAt: number;
    answerAt: number;
    frameAt: number;
  }>('window.__bench');

  await guard.page.getByTestId('hangup').click({ timeout: stepTimeoutMs });
  // The call-ended screen holds for its countdown; the next call starts from idle.
  await untilTrue(
    kiosk,
    `document.querySelector('[data-screen="idle"]') && !document.querySelector('[data-testid="call-guard"]')?.disabled`,
  );

  return {
    ringMs: guardMarks.ringAt - kioskMarks.pressAt,
    guardFirstFrameMs: guardMarks.frameAt - guardMarks.answerAt,
    kioskFirstFrameMs: kioskMarks.frameAt - guardMarks.answerAt,
  };
}

/**
 * Waits until `expression` is truthy in the page. Polled from here: the pages' CSP forbids the
 * eval that a string predicate of waitForFunction needs, and the figures come from the pages'
 * own timestamps, so the polling delay is not measured.
 */
async function untilTrue(page: Page, expression: string): Promise<void> {
  const deadline = Date.now() + stepTimeoutMs;
  while (!(await page.evaluate<unknown>(expression))) {
    if (Date.now() > deadline)
      throw new Error(`not true within ${stepTimeoutMs} ms: ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
