/**
 * Screens that a real run passes through too quickly to photograph (verifying) or that need a
 * device state a test would have to break first (demo kiosk, gate unavailable). The page is the
 * real build served by the real host; only its `window.kiosk` is replaced, before the page loads,
 * by a fake that shows one chosen view, the way Electron's preload provides that object.
 */
import type { KioskView } from '../app/contract/api.js';
import { sampleView } from '../app/contract/testing/sample-view.js';
import { expect, test } from './support/kiosk-fixture.js';
import { makeBlankVideo } from './support/video.js';

/** Runs in the page: a `window.kiosk` that shows `view` and accepts every command. */
function installFakeKiosk(view: KioskView): void {
  const api = {
    invoke: (command: string) => Promise.resolve(command === 'view:get' ? view : undefined),
    on: () => () => undefined,
  };
  Object.defineProperty(globalThis, 'kiosk', { value: api });
}

const views: Array<{ name: string; view: KioskView }> = [
  { name: 'verifying-zh-CN', view: sampleView({ screen: 'verifying' }) },
  { name: 'verifying-en', view: sampleView({ screen: 'verifying', locale: 'en' }) },
  { name: 'idle-demo-gate-unavailable', view: sampleView({ demo: true, gateAvailable: false }) },
  { name: 'privacy-zh-CN', view: sampleView({ screen: 'privacy' }) },
];

for (const { name, view } of views) {
  test(`the ${name} screen renders for the visitor`, async ({ kiosk }) => {
    const videoFile = await makeBlankVideo({ out: test.info().outputPath('blank.y4m') });
    const system = await kiosk.start({ videoFile });
    await system.page.addInitScript(installFakeKiosk, view);

    await system.page.reload();

    await expect(system.page.locator(`[data-screen="${view.screen}"]`)).toBeVisible();
    await expect(system.page.locator('html')).toHaveAttribute('lang', view.locale);
    if (view.demo) await expect(system.page.getByTestId('demo-banner')).toBeVisible();
    if (!view.gateAvailable)
      await expect(system.page.getByTestId('gate-unavailable')).toBeVisible();
    await system.screenshot(name);
  });
}
