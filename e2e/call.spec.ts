/**
 * A visitor calls a guard, end to end on loopback: the kiosk page (browser host, relay board on a
 * pseudo-terminal) and each guard's console run in Chromium with fake cameras and microphones,
 * against the real intercom server as a process. Media is checked with getStats() on both pages;
 * an opening is checked on the relay board's wire. A pass a guard issues in the console is shown
 * to the kiosk's camera as the visitor's phone would show it.
 */
import { writeFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { generateSiteKeys } from '../app/core/passes.js';
import { decodeQrTexts } from './support/decode.js';
import { expectGateStayedShut, relayFrame } from './support/gate-relay.js';
import { e2eGate, e2eSite, type KioskSystem } from './support/kiosk-fixture.js';
import {
  callKey,
  expect,
  fallbackText,
  hangUpAfterOpenSeconds,
  strangerSecret,
  test,
  type GuardConsole,
  type Site,
} from './support/intercom.js';
import { openGuardChannel } from './support/intercom-server.js';
import { makeImageVideo } from './support/video.js';
import {
  expectRelayed,
  mediaFlowing,
  negotiation,
  peerStats,
  pollPeerStats,
  type PeerStats,
} from './support/webrtc-stats.js';

// Kiosk start-up plus a first connection to the server.
const callableTimeoutMs = 15_000;
// Offer, answer and ICE on loopback take well under a second; a loaded CI box needs room.
const mediaTimeoutMs = 20_000;
// The call screens' own timeouts are short in these kiosks (see kioskTimeouts).
const backToIdleMs = 15_000;
// The kiosk counts the picture gone 1.5 s after its last frame (pictureStallMs), checked twice a
// second; the rest is room for a loaded box.
const avatarBackMs = 5_000;

/** Short end screens, so a test sees the kiosk return to idle. */
const kioskTimeouts = { timeouts: { callOpenedSeconds: 3, callEndedSeconds: 2 } };

test.describe.configure({ timeout: 90_000 });

function screen(page: Page, name: string) {
  return page.locator(`[data-screen="${name}"]`);
}

/** The kiosk is connected to the server: its call button is there and enabled. */
async function expectCallable(kiosk: KioskSystem, timeout = callableTimeoutMs): Promise<void> {
  await expect(screen(kiosk.page, 'idle')).toBeVisible({ timeout });
  await expect(kiosk.page.getByTestId('call-guard')).toBeEnabled({ timeout });
}

/** The guard's ringing card for the site's kiosk; resolves to the call's id. */
async function ringingCall(site: Site, guard: GuardConsole): Promise<string> {
  const card = guard.incomingCall();
  await expect(card).toHaveCount(1);
  await expect(card).toContainText(site.kioskName);
  const callId = await card.getAttribute('data-call-id');
  expect(callId, 'the ringing card names its call').toBeTruthy();
  return callId!;
}

/** The guard answers the ringing call; both ends show the call. */
async function answer(site: Site, guard: GuardConsole, callId: string): Promise<void> {
  await guard.incomingCall(callId).getByTestId('answer').click();

  await expect(guard.page.getByTestId('active-call')).toHaveAttribute('data-call-id', callId);
  await expect(screen(site.kiosk.page, 'inCall')).toBeVisible();
}

/** The guard's call started with their camera: the console says so and shows the self-view. */
async function expectGuardCameraOn(guard: GuardConsole): Promise<void> {
  await expect(guard.page.getByTestId('camera')).toHaveAttribute('aria-pressed', 'true');
}

/** Video frames decoded and audio received on both pages; returns both pages' stats. */
async function expectMediaBothWays(
  kiosk: Page,
  guard: Page,
): Promise<{ kiosk: PeerStats; guard: PeerStats }> {
  for (const [side, page] of [
    ['kiosk', kiosk],
    ['guard', guard],
  ] as const) {
    const message = `video frames and audio arrive at the ${side}`;
    await pollPeerStats(page, mediaFlowing, message, mediaTimeoutMs).toBe(true);
  }
  return { kiosk: await peerStats(kiosk), guard: await peerStats(guard) };
}

/** What the kiosk's guard video element shows: read from the page, as the visitor sees it. */
interface GuardPicture {
  playing: boolean;
  videoWidth: number;
  /** Hidden behind the avatar (the element stays, as it carries the guard's voice). */
  waiting: boolean;
}

function guardPicture(kiosk: Page): Promise<GuardPicture> {
  return kiosk.getByTestId('guard-video').evaluate((element) => {
    const video = element as unknown as {
      paused: boolean;
      ended: boolean;
      readyState: number;
      videoWidth: number;
      className: string;
    };
    return {
      playing: !video.paused && !video.ended && video.readyState >= 2,
      videoWidth: video.videoWidth,
      waiting: video.className.includes('guard-video-waiting'),
    };
  });
}

interface CallRow {
  callId: string;
  kioskId: string;
  outcome: string;
  guard: string | null;
  endReason: string | null;
}

/** The server's record of one call, as the history API gives it. */
async function callRecord(site: Site, callId: string): Promise<CallRow | undefined> {
  const { calls } = await site.admin.get<{ calls: CallRow[] }>('/api/calls?limit=20');
  return calls.find((call) => call.callId === callId);
}

function historyRow(guard: GuardConsole, outcome: string) {
  return guard.page.locator(`[data-testid="history-row"][data-outcome="${outcome}"]`);
}

test.describe('a visitor calls the guard', () => {
  test('the call key rings the console; the guard answers, sees and hears the visitor and opens the gate', async ({
    site: sites,
  }) => {
    const site = await sites.start({ kiosk: kioskTimeouts });
    const { kiosk } = site;
    const anna = await site.openConsole('anna', { shareCamera: true });
    await expectCallable(kiosk);

    await kiosk.page.keyboard.press(callKey);
    await expect(screen(kiosk.page, 'calling')).toBeVisible();
    await kiosk.screenshot('call-calling');
    const callId = await ringingCall(site, anna);
    await answer(site, anna, callId);
    await expectGuardCameraOn(anna);

    const stats = await expectMediaBothWays(kiosk.page, anna.page);
    expect(stats.kiosk.videoFrameWidth).toBeGreaterThan(0);
    expect(stats.guard.videoFrameWidth).toBeGreaterThan(0);
    await expect(kiosk.page.getByTestId('guard-avatar')).toHaveCount(0);
    await expect(kiosk.page.getByTestId('guard-video')).toBeVisible();
    await expect(kiosk.page.getByTestId('guard-sees-you')).toBeVisible();
    await expect(anna.page.getByTestId('visitor-video')).toBeVisible();
    await kiosk.screenshot('call-in-call');

    await anna.page.getByTestId('open-gate').click();
    await expect(anna.page.getByTestId('open-sent')).toBeVisible();
    const opened = await relayFrame(kiosk.simulator, true, 10_000);
    await relayFrame(kiosk.simulator, false, 5_000, opened.at);
    await expect(screen(kiosk.page, 'callOpened')).toBeVisible();
    await kiosk.screenshot('call-opened');

    // The kiosk hangs up by itself a little after the opening, then returns to idle.
    await expect(anna.page.getByTestId('active-call')).toHaveCount(0, {
      timeout: (hangUpAfterOpenSeconds + 5) * 1000,
    });
    await expect(screen(kiosk.page, 'idle')).toBeVisible({ timeout: backToIdleMs });
    expect(kiosk.simulator.frames().filter((frame) => frame.on)).toEqual([opened]);

    await expect(historyRow(anna, 'opened')).toHaveCount(1);
    expect(await callRecord(site, callId)).toMatchObject({ outcome: 'opened', guard: 'anna' });
    const audit = kiosk.openStoreReadOnly().listAudit(50);
    expect(audit.filter((entry) => entry.action === 'gate.open')).toEqual([
      expect.objectContaining({ actor: 'guard:anna' }),
    ]);
  });

  test('with two guards the first to answer takes the call, the other stops ringing and cannot open', async ({
    site: sites,
  }) => {
    const site = await sites.start({ guards: ['anna', 'bo'], kiosk: kioskTimeouts });
    const { kiosk } = site;
    const anna = await site.openConsole('anna');
    const bo = await site.openConsole('bo');
    await expectCallable(kiosk);

    await kiosk.page.getByTestId('call-guard').click();
    const callId = await ringingCall(site, anna);
    await expect(bo.incomingCall(callId)).toBeVisible();
    await answer(site, anna, callId);
    await expect(bo.page.getByTestId('answered-by')).toContainText('anna');
    await expect(bo.incomingCall(callId).getByTestId('answer')).toHaveCount(0);
    await expect(bo.page.getByTestId('active-call')).toHaveCount(0);
    await bo.page.screenshot({ path: test.info().outputPath('bo-answered-by.png') });

    // Anna does not share her camera: the visitor hears her and sees an avatar.
    await expect(kiosk.page.getByTestId('guard-avatar')).toBeVisible();
    await pollPeerStats(
      anna.page,
      (stats) => stats.videoFramesDecoded,
      'the visitor video arrives at the guard',
      mediaTimeoutMs,
    ).toBeGreaterThan(0);
    await pollPeerStats(
      kiosk.page,
      (stats) => stats.audioSamplesReceived,
      "the guard's voice arrives at the kiosk",
      mediaTimeoutMs,
    ).toBeGreaterThan(0);

    // Bo's console offers no Open for a call Anna holds; Bo's own socket tries it anyway.
    const channel = await openGuardChannel(await bo.api());
    try {
      channel.send({ type: 'open', callId });
      const refusal = await channel.waitFor((message) => message.type === 'refused');
      expect(refusal).toMatchObject({ request: 'open', callId, code: 'not_call_holder' });
    } finally {
      channel.close();
    }
    await expectGateStayedShut(kiosk.simulator);
    await expect(screen(kiosk.page, 'inCall')).toBeVisible();

    await anna.page.getByTestId('hangup').click();
    await expect(screen(kiosk.page, 'callEnded')).toBeVisible();
    await expect(screen(kiosk.page, 'idle')).toBeVisible({ timeout: backToIdleMs });
    await expect(historyRow(anna, 'ended')).toHaveCount(1);
    expect(await callRecord(site, callId)).toMatchObject({ outcome: 'ended', guard: 'anna' });
    expect(kiosk.simulator.frames().filter((frame) => frame.on)).toEqual([]);
  });

  test('a guard who answers without the camera shows it during the call and hides it again; the kiosk follows without renegotiating', async ({
    site: sites,
  }) => {
    const site = await sites.start({ kiosk: kioskTimeouts });
    const { kiosk } = site;
    // Off by default: the console keeps no camera choice for Anna.
    const anna = await site.openConsole('anna');
    const cameraToggle = anna.page.getByTestId('camera-toggle');
    await expect(cameraToggle).toHaveAttribute('aria-pressed', 'false');
    await expectCallable(kiosk);

    await kiosk.page.keyboard.press(callKey);
    const callId = await ringingCall(site, anna);
    await answer(site, anna, callId);
    await expect(anna.page.getByTestId('camera')).toHaveAttribute('aria-pressed', 'false');
    await expect(anna.page.getByTestId('guard-preview')).toHaveCount(0);
    await pollPeerStats(
      kiosk.page,
      (stats) => stats.audioSamplesReceived,
      "the guard's voice arrives at the kiosk",
      mediaTimeoutMs,
    ).toBeGreaterThan(0);
    await expect(kiosk.page.getByTestId('guard-avatar')).toBeVisible();
    expect(await guardPicture(kiosk.page)).toMatchObject({ waiting: true });
    await kiosk.screenshot('call-guard-avatar');
    const negotiated = await negotiation(kiosk.page);
    expect(negotiated.peers).toBe(1);
    expect(negotiated.local).toBeTruthy();
    expect(negotiated.remote).toBeTruthy();
    const guardNegotiated = await negotiation(anna.page);

    // The header's toggle shows the camera at once in the call running.
    await cameraToggle.click();
    await expect(cameraToggle).toHaveAttribute('aria-pressed', 'true');
    await expectGuardCameraOn(anna);
    await expect(anna.page.getByTestId('guard-preview')).toBeVisible();
    await expect(kiosk.page.getByTestId('guard-avatar')).toHaveCount(0, {
      timeout: mediaTimeoutMs,
    });
    await expect
      .poll(() => guardPicture(kiosk.page), { message: "the kiosk plays the guard's picture" })
      .toMatchObject({ playing: true, waiting: false });
    expect((await guardPicture(kiosk.page)).videoWidth).toBeGreaterThan(0);
    const { videoFramesDecoded } = await peerStats(kiosk.page);
    await pollPeerStats(
      kiosk.page,
      (stats) => stats.videoFramesDecoded,
      "the guard's video keeps arriving at the kiosk",
      mediaTimeoutMs,
    ).toBeGreaterThan(videoFramesDecoded);
    await kiosk.screenshot('call-guard-camera');
    expect(await negotiation(kiosk.page), 'the kiosk made no new offer').toEqual(negotiated);
    expect(await negotiation(anna.page), 'the guard made no new answer').toEqual(guardNegotiated);

    // The button beside the video hides it again; the visitor still hears the guard.
    await anna.page.getByTestId('camera').click();
    await expect(anna.page.getByTestId('camera')).toHaveAttribute('aria-pressed', 'false');
    await expect(cameraToggle).toHaveAttribute('aria-pressed', 'false');
    await expect(anna.page.getByTestId('guard-preview')).toHaveCount(0);
    await expect(kiosk.page.getByTestId('guard-avatar')).toBeVisible({ timeout: avatarBackMs });
    expect(await guardPicture(kiosk.page)).toMatchObject({ waiting: true });
    const { audioSamplesReceived } = await peerStats(kiosk.page);
    await pollPeerStats(
      kiosk.page,
      (stats) => stats.audioSamplesReceived,
      "the guard's voice still arrives at the kiosk",
      mediaTimeoutMs,
    ).toBeGreaterThan(audioSamplesReceived);
    expect(await negotiation(kiosk.page), 'the kiosk made no new offer').toEqual(negotiated);
    expect(await negotiation(anna.page), 'the guard made no new answer').toEqual(guardNegotiated);
    await expect(screen(kiosk.page, 'inCall')).toBeVisible();

    await anna.page.getByTestId('hangup').click();
    await expect(screen(kiosk.page, 'callEnded')).toBeVisible();
  });

  test('a call nobody answers is missed: the kiosk shows the fallback and the console lists it', async ({
    site: sites,
  }) => {
    const site = await sites.start({ server: { calls: { ringTimeoutSeconds: 3 } } });
    const { kiosk } = site;
    const anna = await site.openConsole('anna');
    await expectCallable(kiosk);

    await kiosk.page.keyboard.press(callKey);
    const callId = await ringingCall(site, anna);

    await expect(screen(kiosk.page, 'callMissed')).toBeVisible({ timeout: 10_000 });
    await expect(kiosk.page.getByTestId('call-fallback')).toContainText(fallbackText);
    await kiosk.screenshot('call-missed');
    await expect(anna.incomingCall(callId)).toHaveCount(0);
    const missed = anna.page.getByTestId('missed-call');
    await expect(missed).toHaveCount(1);
    await expect(missed).toContainText(site.kioskName);
    await expect(historyRow(anna, 'missed')).toHaveCount(1);
    expect(await callRecord(site, callId)).toMatchObject({ outcome: 'missed', guard: null });
    await expectGateStayedShut(kiosk.simulator);
  });
});

test.describe('the control connection', () => {
  test('a kiosk with an unknown secret is refused: no call button, the refusal is logged, the visitor gets the fallback', async ({
    site: sites,
  }) => {
    const site = await sites.start({ kioskSecret: strangerSecret() });
    const { kiosk } = site;

    await expect
      .poll(() => /kiosk auth: refused/.test(site.server.log()), {
        message: 'the server logs the refused kiosk',
        timeout: callableTimeoutMs,
      })
      .toBe(true);
    expect(site.server.log()).toContain(site.kioskId);
    expect(site.server.log()).not.toMatch(/hello: kiosk online/);
    await expect(screen(kiosk.page, 'idle')).toBeVisible();
    await expect(kiosk.page.getByTestId('call-guard')).toBeDisabled();
    await kiosk.screenshot('call-unavailable');

    const anna = await site.openConsole('anna');
    await anna.page.getByTestId('nav-kiosks').click();
    await expect(
      anna.page.locator(`[data-testid="kiosk-row"][data-kiosk-id="${site.kioskId}"]`),
    ).toHaveAttribute('data-online', 'false');

    // A call button that types a key still works: the visitor is told whom to call instead.
    await kiosk.page.keyboard.press(callKey);
    await expect(screen(kiosk.page, 'callMissed')).toBeVisible();
    await expect(kiosk.page.getByTestId('call-fallback')).toContainText(fallbackText);
    await expect(anna.page.getByTestId('nav-calls')).toBeVisible();
    await anna.page.getByTestId('nav-calls').click();
    await expect(anna.incomingCall()).toHaveCount(0);
  });

  test('after the server is killed and restarted while idle the kiosk reconnects by itself and the next call works', async ({
    site: sites,
  }) => {
    const site = await sites.start({ kiosk: kioskTimeouts });
    const { kiosk, server } = site;
    const anna = await site.openConsole('anna', { shareCamera: true });
    await expectCallable(kiosk);
    // Marks both documents: a reload would lose the mark.
    for (const page of [kiosk.page, anna.page]) await page.evaluate('window.__sameDocument = true');

    await server.kill();
    await expect(kiosk.page.getByTestId('call-guard')).toBeDisabled({ timeout: 10_000 });
    await expect(anna.page.getByTestId('console-connection')).not.toHaveAttribute(
      'data-state',
      'connected',
    );
    const restartedAt = Date.now();
    await server.start();
    await expect(kiosk.page.getByTestId('call-guard')).toBeEnabled({ timeout: 10_000 });
    const reconnectMs = Date.now() - restartedAt;
    test
      .info()
      .annotations.push({ type: 'kiosk reconnected after', description: `${reconnectMs} ms` });
    await expect(anna.page.getByTestId('console-connection')).toHaveAttribute(
      'data-state',
      'connected',
      { timeout: 20_000 },
    );
    for (const page of [kiosk.page, anna.page])
      expect(await page.evaluate('window.__sameDocument === true')).toBe(true);

    await anna.page.getByTestId('nav-kiosks').click();
    await expect(
      anna.page.locator(`[data-testid="kiosk-row"][data-kiosk-id="${site.kioskId}"]`),
    ).toHaveAttribute('data-online', 'true');
    await anna.page.getByTestId('nav-calls').click();

    await kiosk.page.keyboard.press(callKey);
    const callId = await ringingCall(site, anna);
    await answer(site, anna, callId);
    await expectGuardCameraOn(anna);
    await expectMediaBothWays(kiosk.page, anna.page);

    await anna.page.getByTestId('hangup').click();
    await expect(screen(kiosk.page, 'callEnded')).toBeVisible();
    for (const page of [kiosk.page, anna.page])
      expect(await page.evaluate('window.__sameDocument === true')).toBe(true);
  });
});

test.describe('calls through TURN', () => {
  test('a call forced through a local coturn relay connects over relay candidates with media both ways', async ({
    site: sites,
  }) => {
    const site = await sites.start({ turnOnly: true, kiosk: kioskTimeouts });
    const { kiosk } = site;
    const anna = await site.openConsole('anna', { shareCamera: true });
    await expectCallable(kiosk);

    await kiosk.page.keyboard.press(callKey);
    const callId = await ringingCall(site, anna);
    await answer(site, anna, callId);
    await expectGuardCameraOn(anna);

    expectRelayed(await expectMediaBothWays(kiosk.page, anna.page));
    // Each side allocated its own relay with the credentials the server handed it.
    const allocated = new Set(
      [
        ...(site.turn?.log() ?? '').matchAll(
          /user <([^>]+)>: incoming packet ALLOCATE processed, success/g,
        ),
      ].map((match) => match[1]),
    );
    expect(
      allocated.size,
      `TURN users with an allocation: ${[...allocated].join(', ')}`,
    ).toBeGreaterThanOrEqual(2);

    await anna.page.getByTestId('hangup').click();
    await expect(screen(kiosk.page, 'callEnded')).toBeVisible();
  });
});

test.describe('passes from the console', () => {
  test("a pass a guard issues in the console opens the gate when its QR code is shown to the kiosk's camera", async ({
    site: sites,
  }) => {
    const keys = await generateSiteKeys();
    // A throwaway key of this test's own, beside its other output.
    const privateKeyFile = test.info().outputPath('site-private.jwk.json');
    await writeFile(privateKeyFile, JSON.stringify(keys.privateJwk), { mode: 0o600 });
    const site = await sites.start({
      deferKiosk: true,
      server: { passes: { site: e2eSite, privateKeyFile, gates: [e2eGate] } },
    });
    const anna = await site.openConsole('anna');

    await anna.page.getByTestId('nav-passes').click();
    await anna.page.locator('input[name="visitorName"]').fill('王小明');
    await anna.page.locator('input[name="hostUnit"]').fill('3-1202');
    await anna.page.locator('input[name="validHours"]').fill('2');
    await anna.page.locator('input[name="entries"]').fill('1');
    await anna.page.getByTestId('pass-submit').click();
    const token = (await anna.page.getByTestId('pass-token').textContent())?.trim() ?? '';
    expect(token.length).toBeGreaterThan(20);

    // The QR code the guard sends to the visitor carries exactly the token.
    const qrSource = (await anna.page.getByTestId('pass-qr').getAttribute('src')) ?? '';
    expect(qrSource).toMatch(/^data:image\/png;base64,/);
    const qrImage = Buffer.from(qrSource.slice(qrSource.indexOf(',') + 1), 'base64');
    expect(await decodeQrTexts(qrImage)).toEqual([token]);

    const qrFile = test.info().outputPath('console-pass.png');
    await writeFile(qrFile, qrImage);
    const videoFile = await makeImageVideo({
      image: qrFile,
      out: test.info().outputPath('console-pass.y4m'),
    });
    const kiosk = await site.startKiosk({ videoFile, passesKeys: keys });
    await kiosk.page.getByTestId('start-scan').click();
    const opened = await relayFrame(kiosk.simulator, true, 20_000);
    await expect(screen(kiosk.page, 'accepted')).toBeVisible();
    await relayFrame(kiosk.simulator, false, 5_000, opened.at);

    const store = kiosk.openStoreReadOnly();
    await expect
      .poll(() => store.listVisits(20).find((visit) => visit.outcome === 'admitted'))
      .toMatchObject({ method: 'pass', hostUnit: '3-1202', gate: e2eGate });
  });
});
