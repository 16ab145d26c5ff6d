import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallSignal } from '../contract/api.js';
import { FakeHid } from '../../native/button/testing/fake-hid.js';
import { HidCallButton } from '../../native/button/hid-button.js';
import { startCallSite, type CallSite, type Client } from '../../server/testing/call-site.js';
import type { KioskConfig } from './config.js';
import { createKiosk, type Kiosk, type KioskOptions } from './kiosk.js';
import { generateSiteKeys, issuePass, type SiteKeyPair } from './passes.js';
import { FakeRelay } from './testing/fake-relay.js';
import { testConfig, waitForView } from './testing/kiosk-harness.js';

const fallback = 'Call the property office: 010-1234 5678';

let folder: string;
let keys: SiteKeyPair;
let relay: FakeRelay;
const cleanups: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'kiosk-call-'));
  keys ??= await generateSiteKeys();
  relay = new FakeRelay();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await rm(folder, { recursive: true, force: true });
});

/** A site of its own for one test, closed when the test ends. */
async function site(options: Parameters<typeof startCallSite>[1] = {}, raw = {}) {
  const started = await startCallSite(raw, options);
  cleanups.push(() => started.close());
  return started;
}

/** A guard's console connection, closed when the test ends. */
async function guard(callSite: CallSite, name: string): Promise<Client> {
  const client = await callSite.guard(name);
  cleanups.push(async () => {
    client.socket.terminate();
    await client.closed;
  });
  return client;
}

function configFor(
  callSite: CallSite,
  overrides: Record<string, unknown> = {},
  kioskId = 'north-1',
): KioskConfig {
  return testConfig(folder, keys, {
    intercom: {
      url: callSite.wsUrl,
      kioskId,
      secret: callSite.secrets[kioskId],
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
      fallback,
      hangUpAfterOpenSeconds: 1,
    },
    ...overrides,
  });
}

async function startKiosk(config: KioskConfig, options: KioskOptions = {}): Promise<Kiosk> {
  const kiosk = await createKiosk(config, { configDir: folder, relay, ...options });
  cleanups.push(() => kiosk.close());
  return kiosk;
}

/**
 * A kiosk of `callSite` that is connected and so can ring. When the test ends it closes, and the
 * next test starts once the server has seen it go (and ended any call it left behind).
 */
async function callableKiosk(
  callSite: CallSite,
  options: KioskOptions = {},
  kioskId = 'north-1',
): Promise<Kiosk> {
  const { kiosks } = callSite.running.app.intercom;
  cleanups.push(async () => {
    if (kiosks.isOnline(kioskId)) await once(kiosks, 'offline');
  });
  const kiosk = await startKiosk(configFor(callSite, {}, kioskId), options);
  await waitForView(kiosk, (view) => view.callAvailable);
  return kiosk;
}

/** The next signal the kiosk hands the renderer. */
function nextSignal(kiosk: Kiosk): Promise<CallSignal> {
  return new Promise((resolve) => {
    const off = kiosk.subscribe('call:signal', (signal) => {
      off();
      resolve(signal);
    });
  });
}

/** Presses the on-screen button and resolves once a guard of the ring group is ringing. */
async function ringFrom(kiosk: Kiosk, guard: Client): Promise<string> {
  await kiosk.handle('visitor:call', { source: 'screen' });
  const ringing = await guard.take('ringing');
  await waitForView(kiosk, (view) => view.call?.callId === ringing.callId);
  return String(ringing.callId);
}

/** Rings, has `guard` answer, and resolves once the kiosk shows the call. */
async function answeredCall(kiosk: Kiosk, guard: Client): Promise<string> {
  const callId = await ringFrom(kiosk, guard);
  guard.send({ type: 'answer', callId });
  await guard.take('answered');
  await waitForView(kiosk, (view) => view.screen === 'inCall');
  return callId;
}

const auditActions = (kiosk: Kiosk) =>
  kiosk.store
    .listAudit(100)
    .map((entry) => entry.action)
    .reverse();

describe('a kiosk calling the guards through the intercom server', () => {
  // One site for the tests that need nothing special: starting one hashes several passwords.
  let shared: CallSite;

  beforeAll(async () => {
    shared = await startCallSite();
  });

  afterAll(async () => {
    await shared.close();
  });

  it('rings, shows the answering guard, opens on their command and hangs up after the opening', async () => {
    const callSite = shared;
    const anna = await guard(callSite, 'anna');
    const kiosk = await callableKiosk(callSite);

    const callId = await ringFrom(kiosk, anna);
    anna.send({ type: 'answer', callId });
    const inCall = await waitForView(kiosk, (view) => view.screen === 'inCall');
    expect(inCall.call).toMatchObject({ callId, guard: 'anna', endReason: null });
    expect(inCall.call?.media?.iceTransportPolicy).toBe('all');

    anna.send({ type: 'open', callId });
    const opened = await waitForView(kiosk, (view) => view.screen === 'callOpened');
    const openedAt = Date.now();
    expect(relay.pulses).toEqual([300]);
    expect(opened.call?.callId).toBe(callId);

    const ended = await anna.take('ended');
    expect(ended.reason).toBe('hung_up_by_kiosk');
    // hangUpAfterOpenSeconds is 1; timers may fire a little early, never much.
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(950);
    expect(auditActions(kiosk)).toEqual([
      'call.started',
      'call.answered',
      'gate.open',
      'call.hung_up',
      'call.ended',
    ]);
    expect(kiosk.store.listAudit(100).find((entry) => entry.action === 'gate.open')).toMatchObject({
      actor: 'guard:anna',
      detail: { reason: 'guard_command', callId },
    });
  });

  it('tells the guard what the visitor’s last scan showed', async () => {
    const callSite = shared;
    const anna = await guard(callSite, 'anna');
    const kiosk = await callableKiosk(callSite);
    const now = Math.floor(Date.now() / 1000);
    const expired = await issuePass(keys.privateJwk, {
      passId: 'pass-expired',
      site: 'demo-site',
      gates: ['main-gate'],
      notBefore: now - 7200,
      expires: now - 3600,
      entries: 1,
      hostUnit: '3-201',
      maskedName: '张*',
    });
    await kiosk.handle('visitor:startScan', {});
    await kiosk.handle('scan:report', {
      text: expired,
      bytesHex: '',
      charset: 'utf-8',
      source: 'scanner',
    });
    await waitForView(kiosk, (view) => view.screen === 'refused');

    await kiosk.handle('visitor:call', { source: 'keyboard' });

    const ringing = await anna.take('ringing');
    expect(ringing.context).toEqual({
      scan: { verdict: 'refused', reason: 'expired', maskedName: '张*', destination: '3-201' },
      photoJpegBase64: null,
    });
  });

  it('carries signalling between the renderer and the guard for the answered call only', async () => {
    const callSite = shared;
    const anna = await guard(callSite, 'anna');
    const kiosk = await callableKiosk(callSite);
    const callId = await answeredCall(kiosk, anna);
    const offer = { kind: 'offer' as const, data: { type: 'offer', sdp: 'v=0 offer' } };

    await kiosk.handle('call:signal', { callId: 'someone-elses-call', signal: offer });
    await kiosk.handle('call:signal', { callId, signal: offer });
    const atGuard = await anna.take('signal');
    expect(atGuard).toMatchObject({ callId, signal: offer });
    expect(anna.pending().filter((message) => message.type === 'signal')).toEqual([]);

    const media = { callId, iceConnectionState: 'checking', connectionState: 'connecting' };
    await expect(kiosk.handle('call:media', media)).resolves.toBeUndefined();
    await expect(kiosk.handle('call:media', media)).resolves.toBeUndefined();

    const arriving = nextSignal(kiosk);
    const answer = { kind: 'answer', data: { type: 'answer', sdp: 'v=0 answer' } };
    anna.send({ type: 'signal', callId, signal: answer });
    expect(await arriving).toEqual({ callId, signal: answer });
  });

  it('opens nothing for an open naming another guard or call, or a replayed one', async () => {
    const callSite = shared;
    const anna = await guard(callSite, 'anna');
    const kiosk = await callableKiosk(callSite);
    const callId = await answeredCall(kiosk, anna);
    const { kiosks } = callSite.running.app.intercom;
    const open = (fields: Record<string, unknown>) =>
      kiosks.send('north-1', {
        type: 'open',
        callId,
        guard: 'anna',
        issuedAt: Date.now(),
        nonce: randomBytes(16).toString('hex'),
        ...fields,
      } as never);

    open({ guard: 'ben' });
    open({ callId: 'another-call' });
    anna.send({ type: 'open', callId });
    await waitForView(kiosk, (view) => view.screen === 'callOpened');
    const issued = kiosk.store.listAudit(100).find((entry) => entry.action === 'gate.open')
      ?.detail.nonce;
    open({ nonce: issued });
    // Messages are handled in order and a refusal is decided on arrival: once this warning
    // shows, the replay before it has been judged.
    kiosks.send('north-1', { type: 'ending-soon', callId, endsAt: Date.now() + 10_000 });
    await waitForView(kiosk, (view) => view.call?.endingSoon === true);

    expect(relay.pulses).toEqual([300]);
    const refusals = kiosk.store
      .listAudit(100)
      .filter((entry) => entry.action === 'gate.remote_open_refused')
      .map((entry) => entry.detail.reason)
      .reverse();
    expect(refusals).toEqual(['wrong_guard', 'unknown_call', 'replayed']);
  });

  it('shows the fallback when nobody answers in time', async () => {
    const callSite = await site({ calls: { ringTimeoutMs: 300 } });
    const anna = await guard(callSite, 'anna');
    const kiosk = await callableKiosk(callSite);

    await ringFrom(kiosk, anna);
    const missed = await waitForView(kiosk, (view) => view.screen === 'callMissed');

    expect(missed.callFallback).toBe(fallback);
    expect(missed.call?.endReason).toBe('missed');
    expect(await anna.take('missed')).toMatchObject({ kioskId: 'north-1' });
    expect(auditActions(kiosk)).toContain('call.missed');
  });

  it('shows the fallback when no guard is online, and counts a second quick press once', async () => {
    // Nobody of the back gate's ring group ever connects in these tests.
    const kiosk = await callableKiosk(shared, {}, 'back-1');

    await kiosk.handle('visitor:call', { source: 'screen' });
    await waitForView(kiosk, (view) => view.screen === 'callMissed');
    await kiosk.handle('visitor:call', { source: 'screen' });

    expect((await kiosk.handle('view:get', {})).screen).toBe('callMissed');
    expect(auditActions(kiosk).filter((action) => action === 'call.started')).toHaveLength(1);
  });

  it('ends the call on the screen when the guard denies entry, opening nothing', async () => {
    const callSite = shared;
    const anna = await guard(callSite, 'anna');
    const kiosk = await callableKiosk(callSite);
    const callId = await answeredCall(kiosk, anna);

    anna.send({ type: 'deny', callId });
    const ended = await waitForView(kiosk, (view) => view.screen === 'callEnded');

    expect(ended.call?.endReason).toBe('denied');
    expect(relay.pulses).toEqual([]);
    expect(auditActions(kiosk)).toContain('call.denied');
  });

  it('hangs up on the server when the visitor hangs up', async () => {
    const callSite = shared;
    const anna = await guard(callSite, 'anna');
    const kiosk = await callableKiosk(callSite);
    await answeredCall(kiosk, anna);

    await kiosk.handle('visitor:hangUp', {});

    expect(await anna.take('ended')).toMatchObject({ reason: 'hung_up_by_kiosk' });
    const ended = await waitForView(kiosk, (view) => view.screen === 'callEnded');
    expect(ended.call?.endReason).toBe('hung_up_by_kiosk');
  });

  it('rings from a HID call button press, once for a button held down', async () => {
    const callSite = shared;
    const anna = await guard(callSite, 'anna');
    const hid = new FakeHid();
    const device = hid.add(
      { vendorId: 0x1a2b, productId: 0x3c4d, path: '/dev/hidraw3' },
      { reportByte: 0, mask: 1 },
    );
    const button = new HidCallButton({
      vendorId: 0x1a2b,
      productId: 0x3c4d,
      reportByte: 0,
      mask: 1,
      hid,
    });
    cleanups.push(() => button.close());
    await button.open();
    const kiosk = await callableKiosk(callSite, { callButton: button });

    device.press();
    device.press();
    await anna.take('ringing');
    await waitForView(kiosk, (view) => view.screen === 'calling');
  });

  it('shows the fallback at once while the server is down, and rings again once it is back', async () => {
    const first = await site();
    const port = new URL(first.running.url).port;
    const kiosk = await callableKiosk(first);

    await first.stop();
    await waitForView(kiosk, (view) => !view.callAvailable);
    await kiosk.handle('visitor:call', { source: 'screen' });
    const missed = await kiosk.handle('view:get', {});
    expect(missed.screen).toBe('callMissed');
    expect(missed.callFallback).toBe(fallback);

    const second = await site({ restartOf: first }, { port: Number(port) });
    const anna = await guard(second, 'anna');
    await waitForView(kiosk, (view) => view.callAvailable);
    await kiosk.handle('visitor:cancel', {});
    await ringFrom(kiosk, anna);
  });

  it('ends the call on the screen when the connection drops during it', async () => {
    const callSite = await site();
    const anna = await guard(callSite, 'anna');
    const kiosk = await callableKiosk(callSite);
    await answeredCall(kiosk, anna);

    await callSite.stop();

    const ended = await waitForView(kiosk, (view) => view.screen === 'callEnded');
    expect(ended.call?.endReason).toBe('kiosk_left');
    expect(ended.callAvailable).toBe(false);
  });

  it('offers no call without an intercom server, and shows the fallback on a press', async () => {
    const kiosk = await startKiosk({ ...configFor(shared), intercom: undefined });

    await kiosk.handle('visitor:call', { source: 'screen' });

    const view = await kiosk.handle('view:get', {});
    expect(view).toMatchObject({ screen: 'callMissed', callAvailable: false, locale: 'zh-CN' });
    expect(view.callFallback).toBe('请联系物业管理处。');

    await kiosk.handle('visitor:setLocale', { locale: 'en' });
    const english = await kiosk.handle('view:get', {});
    expect(english.callFallback).toMatch(/property management office/);
  });
});
