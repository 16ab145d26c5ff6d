/**
 * A visitor at the gate with a pass on their phone, end to end: the fake camera shows the code,
 * the kiosk page decodes it, the core verifies it and drives the relay board over a real serial
 * line (a pseudo-terminal) to the LCUS simulator, and the encrypted store keeps the visit.
 */
import { readFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from '@playwright/test';
import type { RefusalReason } from '../app/contract/api.js';
import { generateSiteKeys, issuePass, type PassClaims } from '../app/core/passes.js';
import type { KioskStore } from '../app/core/ports.js';
import { expectGateStayedShut, noOpeningWindowMs, relayFrame } from './support/gate-relay.js';
import { expect, test, validClaims } from './support/kiosk-fixture.js';
import { qrCorpusDir, repoRoot } from './support/paths.js';
import { makeBlankVideo, makeImageVideo, makePassVideo } from './support/video.js';

const pulseMs = 800;
// Finding a code takes the page a few camera frames; the fake video shows it within 3 s a loop.
const scanTimeoutMs = 20_000;
// The default acceptedSeconds (6) plus room for a slow machine.
const acceptedToIdleMs = 15_000;
// A corpus photograph whose code is a plain address, not a pass (see its .txt).
const notAPassPhoto = 'zxingjs-qrcode-7/1.png';

function screen(page: Page, name: string) {
  return page.locator(`[data-screen="${name}"]`);
}

async function passVideo(name: string, text: string): Promise<string> {
  return makePassVideo({ text, out: test.info().outputPath(`${name}.y4m`) });
}

/** The visitor touches "scan your pass" on the idle screen. */
async function startScanning(page: Page): Promise<void> {
  await expect(screen(page, 'idle')).toBeVisible();
  await page.getByTestId('start-scan').click();
}

/** Polls the store until the admitted visit on `passId` is committed, and returns it. */
async function admittedVisit(store: KioskStore, passId: string) {
  const find = () =>
    store.listVisits(50).find((visit) => visit.passId === passId && visit.outcome === 'admitted');
  await expect
    .poll(() => find() !== undefined, { message: `an admitted visit for ${passId}` })
    .toBe(true);
  return find()!;
}

test.describe('a pass shown on a phone', () => {
  test('a valid pass opens the gate for one pulse and records the visit with a photo', async ({
    kiosk,
  }) => {
    const keys = await generateSiteKeys();
    const claims = validClaims({ entries: 2 });
    const videoFile = await passVideo('valid', await issuePass(keys.privateJwk, claims));
    const system = await kiosk.start({ videoFile, passesKeys: keys, pulseMs });
    const { page, simulator } = system;

    await startScanning(page);
    const opened = await relayFrame(simulator, true, scanTimeoutMs);
    await expect(screen(page, 'accepted')).toBeVisible();
    await system.screenshot('accepted');

    const closed = await relayFrame(simulator, false, pulseMs + 3_000, opened.at);
    expect(closed.at - opened.at).toBeGreaterThanOrEqual(pulseMs - 50);
    expect(closed.at - opened.at).toBeLessThan(pulseMs + 700);
    expect(simulator.frames().filter((frame) => frame.on)).toHaveLength(1);

    const store = system.openStoreReadOnly();
    const visit = await admittedVisit(store, claims.passId);
    expect(visit).toMatchObject({
      method: 'pass',
      gate: claims.gates[0],
      hostUnit: claims.hostUnit,
      refusal: null,
    });
    await expect
      .poll(() => store.getVisit(visit.id)?.hasPhoto, {
        message: 'the visitor photo',
        timeout: 10_000,
      })
      .toBe(true);
    expect(store.passUses(claims.passId)).toBe(1);
    const audit = store.listAudit(50).find((entry) => entry.action === 'gate.open');
    expect(audit?.actor).toBe(`pass:${claims.passId}`);
  });

  const refusals: Array<{
    reason: RefusalReason;
    why: string;
    claims: () => Partial<PassClaims>;
    otherKey?: true;
  }> = [
    {
      reason: 'expired',
      why: 'an expired pass',
      claims: () => ({ notBefore: nowSeconds() - 2 * 3600, expires: nowSeconds() - 3600 }),
    },
    {
      reason: 'wrong_gate',
      why: 'a pass for another gate',
      claims: () => ({ gates: ['back-gate'] }),
    },
    { reason: 'forged', why: 'a pass signed by another key', claims: () => ({}), otherKey: true },
  ];

  for (const { reason, why, claims: makeClaims, otherKey } of refusals) {
    test(`${why} is refused as ${reason} and the gate stays shut`, async ({ kiosk }) => {
      const keys = await generateSiteKeys();
      const signingKey = otherKey ? (await generateSiteKeys()).privateJwk : keys.privateJwk;
      const claims = validClaims(makeClaims());
      const videoFile = await passVideo(reason, await issuePass(signingKey, claims));
      const system = await kiosk.start({ videoFile, passesKeys: keys, pulseMs });

      await startScanning(system.page);
      await expect(screen(system.page, 'refused')).toHaveAttribute('data-refusal', reason, {
        timeout: scanTimeoutMs,
      });
      await system.screenshot(`refused-${reason}`);

      await expectGateStayedShut(system.simulator);
      const store = system.openStoreReadOnly();
      expect(store.passUses(claims.passId)).toBe(0);
      expect(store.listVisits(50).some((visit) => visit.outcome === 'admitted')).toBe(false);
      expect(store.listVisits(50).some((visit) => visit.refusal === reason)).toBe(true);
    });
  }

  test('a single-entry pass shown twice opens the gate once, then is refused as used up', async ({
    kiosk,
  }) => {
    const keys = await generateSiteKeys();
    const claims = validClaims({ entries: 1 });
    const videoFile = await passVideo('used-up', await issuePass(keys.privateJwk, claims));
    const system = await kiosk.start({ videoFile, passesKeys: keys, pulseMs });
    const { page, simulator } = system;

    await startScanning(page);
    const opened = await relayFrame(simulator, true, scanTimeoutMs);
    await expect(screen(page, 'accepted')).toBeVisible();
    await relayFrame(simulator, false, pulseMs + 3_000, opened.at);
    await expect(screen(page, 'idle')).toBeVisible({ timeout: acceptedToIdleMs });

    await startScanning(page);
    await expect(screen(page, 'refused')).toHaveAttribute('data-refusal', 'used_up', {
      timeout: scanTimeoutMs,
    });
    await system.screenshot('refused-used_up');

    await expect(
      simulator.waitForFrame(
        (frame) => frame.on,
        noOpeningWindowMs,
        simulator.frames().indexOf(opened) + 1,
      ),
    ).rejects.toThrow(/within/);
    expect(simulator.frames().filter((frame) => frame.on)).toEqual([opened]);
    const store = system.openStoreReadOnly();
    expect(store.passUses(claims.passId)).toBe(1);
    await expect
      .poll(
        () =>
          store
            .listVisits(50)
            .some((visit) => visit.refusal === 'used_up' && visit.passId === claims.passId),
        { timeout: 10_000 },
      )
      .toBe(true);
  });

  test('a code that is not a pass is refused as not_a_pass and the gate stays shut', async ({
    kiosk,
  }) => {
    const photo = path.join(qrCorpusDir(), notAPassPhoto);
    const corpusPresent = await access(photo).then(
      () => true,
      () => false,
    );
    test.skip(
      !corpusPresent,
      `QR corpus photo ${photo} not found: set KIOSK_QR_CORPUS to the corpus folder`,
    );
    const videoFile = await makeImageVideo({
      image: photo,
      out: test.info().outputPath('not-a-pass.y4m'),
    });
    const system = await kiosk.start({ videoFile });

    await startScanning(system.page);
    await expect(screen(system.page, 'refused')).toHaveAttribute('data-refusal', 'not_a_pass', {
      timeout: scanTimeoutMs,
    });
    await system.screenshot('refused-not_a_pass');

    await expectGateStayedShut(system.simulator);
    const store = system.openStoreReadOnly();
    expect(store.listVisits(50).some((visit) => visit.refusal === 'not_a_pass')).toBe(true);
  });
});

test.describe('the kiosk screens', () => {
  test('the visitor can read the screens in English, and the next visitor starts in Chinese again', async ({
    kiosk,
  }) => {
    const english = translations('en');
    const chinese = translations('zh-CN');
    const videoFile = await makeBlankVideo({ out: test.info().outputPath('blank.y4m') });
    const system = await kiosk.start({ videoFile });
    const { page } = system;

    await expectLanguage(page, 'zh-CN', chinese);
    await expect(
      page.getByTestId('demo-banner'),
      'a kiosk on a real relay port is no demo',
    ).toHaveCount(0);
    await system.screenshot('idle-zh-CN');

    await page.getByTestId('locale-en').click();
    await expectLanguage(page, 'en', english);
    await system.screenshot('idle-en');

    await page.getByTestId('show-privacy').click();
    await expect(screen(page, 'privacy')).toContainText(english.privacy.title);
    await system.screenshot('privacy-en');
    await page.getByTestId('cancel').click();
    // Back at idle the visit is over: whoever comes next is greeted in the default language.
    await expectLanguage(page, 'zh-CN', chinese);

    await page.getByTestId('locale-en').click();
    await expectLanguage(page, 'en', english);
    await page.getByTestId('start-scan').click();
    await expect(screen(page, 'scanning')).toContainText(english.scanning.title);
    await cameraPreviewPlaying(page);
    await system.screenshot('scanning-en');
    await page.getByTestId('cancel').click();
    await expectLanguage(page, 'zh-CN', chinese);

    await page.getByTestId('locale-en').click();
    await expectLanguage(page, 'en', english);
    await page.getByTestId('locale-zh-CN').click();
    await expectLanguage(page, 'zh-CN', chinese);
  });
});

/** Resolves once the scanning screen's video shows camera frames, so a screenshot includes them. */
async function cameraPreviewPlaying(page: Page): Promise<void> {
  const video = page.locator('[data-screen="scanning"] video');
  // Typed by hand: these tests are compiled for Node and know no DOM.
  const hasFrames = (element: { readyState: number; videoWidth: number }) =>
    element.readyState >= 2 && element.videoWidth > 0;

  await expect.poll(() => video.evaluate(hasFrames), { timeout: 10_000 }).toBe(true);
}

/** The idle screen is shown in `locale`: its main button's text and the document's language. */
async function expectLanguage(
  page: Page,
  locale: 'en' | 'zh-CN',
  strings: Translations,
): Promise<void> {
  await expect(screen(page, 'idle')).toBeVisible();
  await expect(page.getByTestId('start-scan')).toContainText(strings.idle.startScan);
  await expect(page.locator('html')).toHaveAttribute('lang', locale);
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

interface Translations {
  idle: { startScan: string };
  privacy: { title: string };
  scanning: { title: string };
}

/** The page's own strings, so the test follows the translations instead of copying them. */
function translations(locale: 'en' | 'zh-CN'): Translations {
  const file = path.join(repoRoot, 'app/renderer/i18n', `${locale}.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as Translations;
}
