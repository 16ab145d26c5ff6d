/**
 * Entry devices besides the camera, end to end: a serial pass scanner played by its simulator on
 * a pseudo-terminal pair, and a scanner that types its codes into the kiosk window. Both go
 * through the same checks as the camera; an unplugged scanner is shown as out of order and comes
 * back by itself.
 */
import type { Page } from '@playwright/test';
import { expectGateStayedShut, relayFrame } from './support/gate-relay.js';
import { expect, test, type KioskFixtures } from './support/kiosk-fixture.js';
import { makeBlankVideo } from './support/video.js';

const pulseMs = 800;
// The scanner's loss is noticed within its driver's reconnect interval; 2 s is the promise.
const unplugNoticedMs = 2_000;
// socat back, the driver reopens at its next look, the page is told.
const replugNoticedMs = 5_000;

function screen(page: Page, name: string) {
  return page.locator(`[data-screen="${name}"]`);
}

async function blankVideo(): Promise<string> {
  return makeBlankVideo({ out: test.info().outputPath('blank.y4m') });
}

/** A kiosk with a serial scanner on a blank camera. */
async function startWithScanner(kiosk: KioskFixtures['kiosk']) {
  return kiosk.start({ videoFile: await blankVideo(), pulseMs, serialScanner: true });
}

/** Types `text` as a keyboard-wedge scanner would: every key at once, then Enter. */
async function typeLikeScanner(page: Page, text: string): Promise<void> {
  await page.keyboard.type(text, { delay: 0 });
  await page.keyboard.press('Enter');
}

test.describe('a serial pass scanner', () => {
  test('a pass scanned on the idle screen opens the gate with no touch first', async ({
    kiosk,
  }) => {
    const system = await startWithScanner(kiosk);
    const { page, simulator, scanner } = system;
    await expect(screen(page, 'idle')).toBeVisible();
    await expect(page.getByTestId('scanner-unavailable')).toHaveCount(0);
    const pass = await system.issue();

    const before = Date.now();
    await scanner!.simulator.scan(pass);

    await expect(screen(page, 'accepted')).toBeVisible();
    const on = await relayFrame(simulator, true, 5_000, before);
    const off = await relayFrame(simulator, false, 5_000, on.at);
    expect(off.at - on.at).toBeGreaterThanOrEqual(pulseMs - 50);
    await system.screenshot('scanner-accepted');
  });

  test('unplugged, the idle screen says it is out of order; plugged back, it works again', async ({
    kiosk,
  }) => {
    const system = await startWithScanner(kiosk);
    const { page, simulator, scanner } = system;
    await expect(screen(page, 'idle')).toBeVisible();

    await scanner!.pair.unplug();
    await expect(page.getByTestId('scanner-unavailable')).toBeVisible({ timeout: unplugNoticedMs });
    await system.screenshot('idle-scanner-unavailable');
    // The camera still lets the visitor in.
    await expect(page.getByTestId('start-scan')).toBeEnabled();

    await scanner!.pair.replug();
    await expect(page.getByTestId('scanner-unavailable')).toHaveCount(0, {
      timeout: replugNoticedMs,
    });
    await scanner!.simulator.whenOpen();
    const before = Date.now();
    await scanner!.simulator.scan(await system.issue());
    await relayFrame(simulator, true, 5_000, before);
  });

  test('a garbled code is refused and the gate stays shut', async ({ kiosk }) => {
    const system = await startWithScanner(kiosk);
    const { page, simulator, scanner } = system;
    await expect(screen(page, 'idle')).toBeVisible();

    await scanner!.simulator.scan(await system.issue(), { corrupt: 'flip' });

    await expect(screen(page, 'refused')).toBeVisible();
    await expectGateStayedShut(simulator);
  });
});

test.describe('a scanner that types into the kiosk window', () => {
  test('a pass typed in one burst opens the gate; the same keys typed by a person do nothing', async ({
    kiosk,
  }) => {
    // Playwright sends each key over the DevTools protocol, a few ms apiece on a busy machine, so
    // its "scanner" is slower than a real one: the thresholds are widened to match (a person's
    // 120 ms a key stays far outside them).
    const system = await kiosk.start({
      videoFile: await blankVideo(),
      pulseMs,
      config: { scanner: { keyboard: { burstGapMs: 40, humanGapMs: 80 } } },
    });
    const { page, simulator } = system;
    await expect(screen(page, 'idle')).toBeVisible();

    await page.keyboard.type('ABCDEFGH', { delay: 120 });
    await page.keyboard.press('Enter');
    await expectGateStayedShut(simulator);
    await expect(screen(page, 'idle')).toBeVisible();

    const before = Date.now();
    await typeLikeScanner(page, await system.issue());
    await expect(screen(page, 'accepted')).toBeVisible();
    await relayFrame(simulator, true, 5_000, before);
  });
});
