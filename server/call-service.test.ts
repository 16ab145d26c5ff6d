import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RemoteOpenCommandSchema } from '../app/core/remote-open.js';
import type { CallTimings } from './call-service.js';
import { openServerStore } from './store.js';
import { startCallSite, untaken, type CallSite, type Client } from './testing/call-site.js';
import { clearLoggedLines, loggedLines } from './testing/log-capture.js';

vi.mock('../app/core/log.js', () => import('./testing/log-capture.js'));

let site: CallSite | undefined;

beforeEach(() => clearLoggedLines());

afterEach(async () => {
  vi.restoreAllMocks();
  await site?.close();
  site = undefined;
});

/** A site with calls; `raw` is merged into its configuration. */
async function start(timings: CallTimings = {}, raw: Record<string, unknown> = {}) {
  site = await startCallSite(raw, { calls: timings });
  return site;
}

function auditActions(): string[] {
  return (site?.store.listAudit({}) ?? []).map((entry) => entry.action);
}

/** The kiosk presses call and both guards ring; returns the call id. */
async function ringBoth(
  north: Client,
  anna: Client,
  ben: Client,
  call: Record<string, unknown> = { type: 'call' },
): Promise<string> {
  north.send(call);
  const ringing = await north.take('ringing');
  const callId = ringing.callId as string;
  for (const guardClient of [anna, ben]) {
    await expect(guardClient.take('ringing')).resolves.toMatchObject({
      callId,
      kioskId: 'north-1',
      kioskName: 'North gate',
    });
  }
  return callId;
}

describe('calls through the intercom server', () => {
  it('rings the group, lets the first guard take the call and only that guard open the gate', async () => {
    const { guard, kiosk } = await start();
    const anna = await guard('anna');
    const ben = await guard('ben');
    const north = await kiosk('north-1');

    const callId = await ringBoth(north, anna, ben);
    anna.send({ type: 'answer', callId });

    await expect(north.take('answered')).resolves.toMatchObject({ callId, guard: 'anna' });
    await expect(anna.take('answered')).resolves.toMatchObject({ callId, kioskId: 'north-1' });
    await expect(ben.take('ring-stopped')).resolves.toEqual({
      type: 'ring-stopped',
      callId,
      reason: 'answered',
      answeredBy: 'anna',
    });

    ben.send({ type: 'answer', callId });
    await expect(ben.take('refused')).resolves.toMatchObject({ code: 'already_answered' });
    ben.send({ type: 'open', callId });
    await expect(ben.take('refused')).resolves.toMatchObject({
      request: 'open',
      callId,
      code: 'not_call_holder',
    });
    expect(await untaken(north, 'open')).toEqual([]);

    anna.send({ type: 'open', callId });
    const open = await north.take('open');
    expect(open).toMatchObject({ callId, guard: 'anna' });
    expect(RemoteOpenCommandSchema.safeParse(open).success).toBe(true);
    await expect(anna.take('open-sent')).resolves.toEqual({ type: 'open-sent', callId });

    anna.send({ type: 'hangup', callId });
    await expect(north.take('ended')).resolves.toEqual({
      type: 'ended',
      callId,
      reason: 'hung_up_by_guard',
    });
    await expect(anna.take('ended')).resolves.toMatchObject({ callId, reason: 'hung_up_by_guard' });
    expect(auditActions()).toEqual(
      expect.arrayContaining([
        'call.ring',
        'call.answer',
        'call.open_refused',
        'call.open',
        'call.end',
      ]),
    );
  });

  it('turns a call nobody answers into a missed call for the kiosk and the ring group', async () => {
    const { guard, kiosk } = await start({ ringTimeoutMs: 150 });
    const anna = await guard('anna');
    const ben = await guard('ben');
    const north = await kiosk('north-1');

    const callId = await ringBoth(north, anna, ben);

    await expect(north.take('missed')).resolves.toEqual({ type: 'missed', callId });
    await expect(north.take('ended')).resolves.toMatchObject({ callId, reason: 'missed' });
    for (const guardClient of [anna, ben]) {
      await expect(guardClient.take('ring-stopped')).resolves.toMatchObject({
        callId,
        reason: 'missed',
      });
      await expect(guardClient.take('missed')).resolves.toMatchObject({
        callId,
        kioskName: 'North gate',
      });
    }
    expect(auditActions()).toContain('call.miss');
  });

  it('warns kiosk and guard before the maximum call time ends the call', async () => {
    const { guard, kiosk } = await start({ maxCallMs: 400, warnBeforeEndMs: 300 });
    const anna = await guard('anna');
    const ben = await guard('ben');
    const north = await kiosk('north-1');
    const callId = await ringBoth(north, anna, ben);

    ben.send({ type: 'answer', callId });
    const answered = await north.take('answered');

    await expect(north.take('ending-soon')).resolves.toEqual({
      type: 'ending-soon',
      callId,
      endsAt: answered.endsAt,
    });
    await expect(ben.take('ending-soon')).resolves.toMatchObject({ callId });
    await expect(north.take('ended')).resolves.toMatchObject({ callId, reason: 'max_call_time' });
    await expect(ben.take('ended')).resolves.toMatchObject({ callId, reason: 'max_call_time' });
  });

  it('relays signalling only between the kiosk and the guard holding its call', async () => {
    const { guard, kiosk } = await start();
    const anna = await guard('anna');
    const ben = await guard('ben');
    const north = await kiosk('north-1');
    const callId = await ringBoth(north, anna, ben);
    const offer = { kind: 'offer', data: { sdp: 'v=0 offer' } };

    north.send({ type: 'signal', callId, signal: offer });
    await expect(north.take('refused')).resolves.toMatchObject({ code: 'not_answered' });

    anna.send({ type: 'answer', callId });
    await north.take('answered');
    north.send({ type: 'signal', callId, signal: offer });
    await expect(anna.take('signal')).resolves.toEqual({ type: 'signal', callId, signal: offer });
    anna.send({ type: 'signal', callId, signal: { kind: 'answer', data: { sdp: 'v=0 answer' } } });
    await expect(north.take('signal')).resolves.toMatchObject({ signal: { kind: 'answer' } });

    ben.send({ type: 'signal', callId, signal: { kind: 'ice', data: { candidate: 'x' } } });
    await expect(ben.take('refused')).resolves.toMatchObject({
      request: 'signal',
      code: 'not_call_holder',
    });
    await north.sync();
    await ben.sync();
    expect(north.pending().filter((message) => message.type === 'signal')).toEqual([]);
    expect(ben.pending().filter((message) => message.type === 'signal')).toEqual([]);
  });

  it('refuses messages naming unknown calls or another kiosk’s call and stays up', async () => {
    const { guard, kiosk } = await start();
    const anna = await guard('anna');
    const ben = await guard('ben');
    const north = await kiosk('north-1');
    const south = await kiosk('south-1');
    const callId = await ringBoth(north, anna, ben);

    south.send({ type: 'hangup', callId });
    await expect(south.take('refused')).resolves.toMatchObject({ callId, code: 'wrong_kiosk' });
    south.send({ type: 'signal', callId, signal: { kind: 'ice', data: null } });
    await expect(south.take('refused')).resolves.toMatchObject({ code: 'wrong_kiosk' });
    anna.send({ type: 'answer', callId: 'no-such-call' });
    await expect(anna.take('refused')).resolves.toMatchObject({ code: 'call_not_found' });
    anna.send({ type: 'open', callId: 'no-such-call' });
    await expect(anna.take('refused')).resolves.toMatchObject({ code: 'call_not_found' });
    north.send({ type: 'call' });
    await expect(north.take('refused')).resolves.toMatchObject({ callId, code: 'kiosk_busy' });

    ben.send({ type: 'answer', callId });
    await expect(north.take('answered')).resolves.toMatchObject({ callId, guard: 'ben' });
    await north.sync();
    expect(
      north.pending().filter((message) => message.type === 'open' || message.type === 'ended'),
    ).toEqual([]);
  });

  it('logs a refusal under its own operation with the sending kiosk and the call’s kiosk', async () => {
    const { guard, kiosk } = await start();
    const anna = await guard('anna');
    const ben = await guard('ben');
    const north = await kiosk('north-1');
    const south = await kiosk('south-1');
    const callId = await ringBoth(north, anna, ben);

    for (const type of ['cancel', 'hangup']) {
      south.send({ type, callId });
      await south.take('refused');
    }
    south.send({ type: 'signal', callId, signal: { kind: 'ice', data: null } });
    await south.take('refused');

    const refusals = loggedLines((line) => line.msg.endsWith(': refused'));
    const ids = { level: 'warn', callId, callKioskId: 'north-1', senderKioskId: 'south-1' };
    expect(refusals).toMatchObject([
      { ...ids, msg: 'cancel: refused', code: 'wrong_kiosk' },
      { ...ids, msg: 'hang-up: refused', code: 'wrong_kiosk' },
      { ...ids, msg: 'signal: refused', code: 'wrong_kiosk' },
    ]);
  });

  it('sends a refusal only to the console that sent the refused message', async () => {
    const { guard, kiosk } = await start();
    const annaHere = await guard('anna');
    const annaThere = await guard('anna');
    const ben = await guard('ben');
    const north = await kiosk('north-1');
    north.send({ type: 'call' });
    const { callId } = await north.take('ringing');

    annaHere.send({ type: 'open', callId });

    await expect(annaHere.take('refused')).resolves.toMatchObject({ code: 'not_answered' });
    expect(await untaken(annaThere, 'refused')).toEqual([]);
    expect(await untaken(ben, 'refused')).toEqual([]);
  });

  it('ends the call when its guard disconnects and refuses a call when no guard is online', async () => {
    const { guard, kiosk } = await start();
    const anna = await guard('anna');
    const ben = await guard('ben');
    const north = await kiosk('north-1');
    const callId = await ringBoth(north, anna, ben);
    anna.send({ type: 'answer', callId });
    await north.take('answered');

    anna.socket.close();
    await expect(north.take('ended')).resolves.toMatchObject({ callId, reason: 'guard_left' });
    ben.socket.close();
    await once(ben.socket, 'close');
    north.send({ type: 'call' });

    await expect(north.take('refused')).resolves.toMatchObject({ callId: null, code: 'no_guards' });
  });

  it('tells the holding guard when the kiosk leaves, and sends the queue to guards', async () => {
    const { guard, kiosk } = await start();
    const anna = await guard('anna');
    const ben = await guard('ben');
    const north = await kiosk('north-1');
    const callId = await ringBoth(north, anna, ben);

    await expect(
      ben.take('queue', (message) => (message.calls as unknown[]).length === 1),
    ).resolves.toMatchObject({
      calls: [{ callId, kioskName: 'North gate', state: 'ringing', guard: null }],
    });
    anna.send({ type: 'answer', callId });
    await anna.take('answered');
    north.socket.close();

    await expect(anna.take('ended')).resolves.toMatchObject({ callId, reason: 'kiosk_left' });
    await expect(
      ben.take('queue', (message) => (message.calls as unknown[]).length === 0),
    ).resolves.toBeDefined();
  });

  it('shows the guards what the kiosk knows about the visitor, while ringing and once answered', async () => {
    const { guard, kiosk } = await start();
    const anna = await guard('anna');
    const ben = await guard('ben');
    const north = await kiosk('north-1');
    const context = {
      scan: { verdict: 'refused', reason: 'expired', maskedName: '王*', destination: '3-1202' },
      photoJpegBase64: Buffer.from('a jpeg, really').toString('base64'),
    };

    north.send({ type: 'call', context });
    const { callId } = await north.take('ringing');
    await expect(anna.take('ringing')).resolves.toMatchObject({ callId, context });
    await expect(ben.take('ringing')).resolves.toMatchObject({ callId, context });
    anna.send({ type: 'answer', callId });

    await expect(anna.take('answered')).resolves.toMatchObject({ callId, context });
  });

  it('sends a null context when the kiosk knows nothing about the visitor', async () => {
    const { guard, kiosk } = await start();
    const anna = await guard('anna');
    const ben = await guard('ben');
    const north = await kiosk('north-1');

    north.send({ type: 'call' });
    const { callId } = await north.take('ringing');
    await expect(anna.take('ringing')).resolves.toMatchObject({ callId, context: null });
    ben.send({ type: 'answer', callId });

    await expect(ben.take('answered')).resolves.toMatchObject({ callId, context: null });
  });

  it('hands kiosk and guard their own fresh TURN credentials and the site’s transport policy', async () => {
    const ice = {
      stunUrls: ['stun:stun.example.org:3478'],
      turnUrls: ['turn:turn.example.org:3478?transport=udp'],
      turnSecret: 'a shared secret of the TURN server',
      transportPolicy: 'relay',
    };
    const { guard, kiosk, store } = await start({}, { ice });
    const anna = await guard('anna');
    const ben = await guard('ben');
    const north = await kiosk('north-1');
    const callId = await ringBoth(north, anna, ben);

    anna.send({ type: 'answer', callId });
    const kioskMedia = (await north.take('answered')).media as MediaShape;
    const guardMedia = (await anna.take('answered')).media as MediaShape;

    const annaId = store.listGuards().find((entry) => entry.name === 'anna')?.id;
    for (const [media, label] of [
      [kioskMedia, 'kiosk-north-1'],
      [guardMedia, `guard-${annaId}`],
    ] as const) {
      expect(media.iceTransportPolicy).toBe('relay');
      expect(media.iceServers[0]).toEqual({ urls: ice.stunUrls });
      expect(media.iceServers[1]).toMatchObject({ urls: ice.turnUrls });
      expect(media.iceServers[1]?.username).toMatch(new RegExp(`^\\d+:${label}$`));
      expect(media.iceServers[1]?.credential).toMatch(/^[A-Za-z0-9+/]+=*$/);
    }
  });

  it('takes the ring timeout from the configuration file when no override is given', async () => {
    site = await startCallSite({ calls: { ringTimeoutSeconds: 0.2 } });
    const anna = await site.guard('anna');
    const ben = await site.guard('ben');
    const north = await site.kiosk('north-1');
    const callId = await ringBoth(north, anna, ben);

    await expect(north.take('missed')).resolves.toEqual({ type: 'missed', callId });
  });

  it('keeps each call in the history with who answered and how it turned out', async () => {
    const { guard, kiosk, store } = await start();
    const anna = await guard('anna');
    const ben = await guard('ben');
    const north = await kiosk('north-1');

    const opened = await ringBoth(north, anna, ben);
    anna.send({ type: 'answer', callId: opened });
    await north.take('answered');
    anna.send({ type: 'open', callId: opened });
    await north.take('open');
    north.send({ type: 'hangup', callId: opened });
    await anna.take('ended');
    const cancelled = await ringBoth(north, anna, ben);
    north.send({ type: 'cancel', callId: cancelled });
    await north.take('ended');
    const denied = await ringBoth(north, anna, ben);
    ben.send({ type: 'answer', callId: denied });
    await ben.take('answered');
    ben.send({ type: 'deny', callId: denied });
    await north.take('ended', (message) => message.callId === denied);
    const live = await ringBoth(north, anna, ben);

    const history = store.listCalls({ all: true }, 10);
    expect(history.map((call) => [call.callId, call.outcome, call.guard, call.endReason])).toEqual([
      [live, 'live', null, null],
      [denied, 'denied', 'ben', 'denied'],
      [cancelled, 'cancelled', null, 'cancelled'],
      [opened, 'opened', 'anna', 'hung_up_by_kiosk'],
    ]);
    expect(history[0]).toMatchObject({
      kioskId: 'north-1',
      kioskName: 'North gate',
      endedAt: null,
    });
    expect(history[3]?.answeredAt).toBeGreaterThanOrEqual(history[3]?.ringStartedAt ?? Infinity);
  });

  it('closes the calls a stopped server left live, and the next call after the restart works', async () => {
    const first = await start();
    const anna = await first.guard('anna');
    const ben = await first.guard('ben');
    const north = await first.kiosk('north-1');
    const callId = await ringBoth(north, anna, ben);
    anna.send({ type: 'answer', callId });
    await north.take('answered');
    await first.stop();
    // A crash leaves a row live that no shutdown closed: the next start must close it.
    const crashed = openServerStore({ file: join(first.folder, 'intercom.db') });
    crashed.recordCallStart({ callId: 'lost-in-a-crash', kioskId: 'south-1', ringStartedAt: 1 });
    crashed.close();

    site = await startCallSite({}, { restartOf: first });
    const history = site.store.listCalls({ all: true }, 10);
    expect(history.find((call) => call.callId === callId)).toMatchObject({
      outcome: 'ended',
      endReason: 'kiosk_left',
    });
    expect(history.find((call) => call.callId === 'lost-in-a-crash')).toMatchObject({
      outcome: 'missed',
      endReason: 'kiosk_left',
      endedAt: 1 + 30_000,
    });

    const annaAgain = await site.guard('anna');
    const benAgain = await site.guard('ben');
    const northAgain = await site.kiosk('north-1');
    const next = await ringBoth(northAgain, annaAgain, benAgain);
    expect(next).not.toBe(callId);
  });

  it('refuses an open as kiosk_offline, opening nothing, when the kiosk cannot be reached', async () => {
    const { guard, kiosk, running } = await start();
    const anna = await guard('anna');
    const ben = await guard('ben');
    const north = await kiosk('north-1');
    const callId = await ringBoth(north, anna, ben);
    anna.send({ type: 'answer', callId });
    await north.take('answered');
    // The kiosk's connection drops just as the open goes out, before the server sees it close.
    const { kiosks } = running.app.intercom;
    const send = kiosks.send.bind(kiosks);
    vi.spyOn(kiosks, 'send').mockImplementation((kioskId, message) =>
      message.type === 'open' ? false : send(kioskId, message),
    );

    anna.send({ type: 'open', callId });

    await expect(anna.take('refused')).resolves.toMatchObject({
      request: 'open',
      callId,
      code: 'kiosk_offline',
    });
    expect(await untaken(anna, 'open-sent')).toEqual([]);
    expect(await untaken(north, 'open')).toEqual([]);
    expect(site?.store.listAudit({ action: 'call.open_undelivered' })).toMatchObject([
      { actor: 'guard:anna', detail: { callId, kioskId: 'north-1' } },
    ]);
  });

  it('audits a call nobody could be rung for', async () => {
    const { kiosk } = await start();
    const north = await kiosk('north-1');

    north.send({ type: 'call' });

    await expect(north.take('refused')).resolves.toMatchObject({ code: 'no_guards' });
    expect(site?.store.listAudit({ action: 'call.no_guards' })).toMatchObject([
      { actor: 'kiosk:north-1', detail: { kioskId: 'north-1', ringGroupSize: 2 } },
    ]);
  });
});

interface MediaShape {
  iceServers: { urls: string[]; username?: string; credential?: string }[];
  iceTransportPolicy: string;
}
