/**
 * Hostile and broken input over real WebSockets: whatever a kiosk or console sends, the server
 * refuses it with a code, nothing opens a gate, and the server keeps serving everyone else.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  guardCloseCodes,
  kioskChannelPath,
  kioskCloseCodes,
} from '../app/contract/intercom-protocol.js';
import { adminName } from './testing/fixtures.js';
import {
  connectClient,
  startCallSite,
  untaken,
  type CallSite,
  type Client,
} from './testing/call-site.js';
import { textMatching } from './testing/matchers.js';

let site: CallSite | undefined;

afterEach(async () => {
  await site?.close();
  site = undefined;
});

/** A site with anna and ben online, kiosk north-1 connected, and a call anna answered. */
async function answeredCall(raw: Record<string, unknown> = {}): Promise<{
  site: CallSite;
  anna: Client;
  ben: Client;
  north: Client;
  callId: string;
}> {
  site = await startCallSite(raw);
  const anna = await site.guard('anna');
  const ben = await site.guard('ben');
  const north = await site.kiosk('north-1');
  north.send({ type: 'call' });
  const { callId } = await north.take('ringing');
  anna.send({ type: 'answer', callId });
  await north.take('answered');
  await anna.take('answered');
  return { site, anna, ben, north, callId: callId as string };
}

function openAudits(): string[] {
  return (site?.store.listAudit({}) ?? [])
    .map((entry) => entry.action)
    .filter((action) => action.startsWith('call.open'));
}

/** The server still answers HTTP for a logged-in guard. */
async function answersMe(): Promise<number> {
  const response = await fetch(`${site?.running.url}/api/me`, {
    headers: { cookie: site?.cookies[adminName] ?? '' },
  });
  return response.status;
}

describe('bad input on the kiosk channel', () => {
  it('answers malformed JSON, a binary frame and an unknown type with bad_payload', async () => {
    const { north } = await answeredCall();

    for (const frame of ['{"type":"call"', 'null', '[]', '{"type":"open","callId":"x"}']) {
      north.socket.send(frame);
      await expect(north.take('error')).resolves.toMatchObject({
        error: { code: 'bad_payload' },
      });
    }
    north.socket.send(Buffer.from('{"type":"ping","id":1}'), { binary: true });
    await expect(north.take('error')).resolves.toMatchObject({
      error: { message: 'binary messages are not accepted' },
    });

    await north.sync();
    expect(await untaken(north, 'open')).toEqual([]);
  });

  it('refuses an oversized message with an error, and a 1 MB one by closing only that connection', async () => {
    const { north, anna, callId } = await answeredCall();

    north.socket.send(JSON.stringify({ type: 'ping', id: 1, pad: 'x'.repeat(200 * 1024) }));
    await expect(north.take('error')).resolves.toMatchObject({
      error: { code: 'bad_payload', message: textMatching(/exceeds 131072/) },
    });
    north.socket.send('x'.repeat(1024 * 1024));

    expect(await north.closed).toBe(1009);
    await expect(anna.take('ended')).resolves.toMatchObject({ callId, reason: 'kiosk_left' });
    expect(await answersMe()).toBe(200);
    const again = await site?.kiosk('north-1');
    await again?.sync();
  });

  it('refuses a call whose context breaks the protocol, and rings nobody', async () => {
    site = await startCallSite();
    const anna = await site.guard('anna');
    const north = await site.kiosk('north-1');

    north.send({ type: 'call', context: { scan: null, photoJpegBase64: '<script>' } });
    await expect(north.take('error')).resolves.toMatchObject({
      error: { code: 'bad_payload', message: textMatching(/context\.photoJpegBase64/) },
    });
    north.send({ type: 'call', context: { scan: null, photoJpegBase64: null, extra: 1 } });
    await expect(north.take('error')).resolves.toMatchObject({ error: { code: 'bad_payload' } });

    await anna.sync();
    expect(anna.pending().filter((message) => message.type === 'ringing')).toEqual([]);
  });

  it('refuses a signal for another kiosk’s call and relays nothing to its guard', async () => {
    const { site, anna, callId } = await answeredCall();
    const south = await site.kiosk('south-1');

    south.send({ type: 'signal', callId, signal: { kind: 'offer', data: { sdp: 'v=0' } } });
    south.send({ type: 'hangup', callId });
    south.send({ type: 'signal', callId: 'no-such-call', signal: { kind: 'ice', data: null } });

    await expect(south.take('refused')).resolves.toMatchObject({ callId, code: 'wrong_kiosk' });
    await expect(south.take('refused')).resolves.toMatchObject({ callId, code: 'wrong_kiosk' });
    await expect(south.take('refused')).resolves.toMatchObject({ code: 'call_not_found' });
    await anna.sync();
    expect(anna.pending().filter((message) => ['signal', 'ended'].includes(message.type))).toEqual(
      [],
    );
  });

  it('closes a kiosk that sends 500 garbage messages in a burst; everyone else carries on', async () => {
    const { site, anna, north, callId } = await answeredCall();
    const south = await site.kiosk('south-1');

    for (let i = 0; i < 500; i += 1) south.socket.send(`garbage ${i}`);

    expect(await south.closed).toBe(kioskCloseCodes.abuse);
    const errors = south.pending().filter((message) => message.type === 'error');
    expect(errors.length).toBeLessThanOrEqual(10);
    expect(await answersMe()).toBe(200);
    north.send({ type: 'signal', callId, signal: { kind: 'ice', data: null } });
    await expect(anna.take('signal')).resolves.toMatchObject({ callId });
    expect(site.running.app.intercom.kiosks.isOnline('north-1')).toBe(true);
  });

  it('refuses a call from a connection that has not said hello, and rings nobody', async () => {
    site = await startCallSite();
    const anna = await site.guard('anna');
    const stranger = await connectClient(`${site.wsUrl}${kioskChannelPath}`);
    site.clients.push(stranger);

    stranger.send({ type: 'call' });

    expect(await stranger.closed).toBe(kioskCloseCodes.refused);
    await anna.sync();
    expect(anna.pending().filter((message) => message.type === 'ringing')).toEqual([]);
  });
});

describe('bad input on the guard channel', () => {
  it('refuses every message of a guard outside the kiosk’s ring group alike; nothing opens', async () => {
    const { site, north, callId } = await answeredCall();
    const carl = await site.guard('carl');

    for (const type of ['answer', 'open', 'deny', 'hangup']) carl.send({ type, callId });
    carl.send({ type: 'signal', callId, signal: { kind: 'ice', data: null } });

    for (const request of ['answer', 'open', 'deny', 'hangup', 'signal']) {
      await expect(carl.take('refused')).resolves.toMatchObject({
        request,
        code: 'not_in_ring_group',
      });
    }
    expect(await untaken(north, 'open')).toEqual([]);
    expect(await untaken(north, 'signal')).toEqual([]);
    expect(site.store.listAudit({ action: 'call.open_refused' })).toMatchObject([
      { actor: 'guard:carl', detail: { callId, kioskId: 'north-1', code: 'not_in_ring_group' } },
    ]);
  });

  it('refuses an answer from a guard outside the ring group while the call rings', async () => {
    site = await startCallSite();
    const carl = await site.guard('carl');
    const anna = await site.guard('anna');
    const north = await site.kiosk('north-1');
    north.send({ type: 'call' });
    const { callId } = await north.take('ringing');
    await anna.take('ringing');

    carl.send({ type: 'answer', callId });
    carl.send({ type: 'open', callId });

    await expect(carl.take('refused')).resolves.toMatchObject({ code: 'not_in_ring_group' });
    await expect(carl.take('refused')).resolves.toMatchObject({ code: 'not_in_ring_group' });
    await north.sync();
    expect(north.pending().map((message) => message.type)).toEqual([]);
  });

  it('sends one open per call, refusing a second from another console, and one replayed after the call', async () => {
    const { site, anna, north, callId } = await answeredCall();
    const secondTab = await site.guard('anna');

    anna.send({ type: 'open', callId });
    const first = await north.take('open');
    await anna.take('open-sent');
    secondTab.send({ type: 'open', callId });
    await expect(secondTab.take('refused')).resolves.toMatchObject({
      request: 'open',
      callId,
      code: 'already_opened',
    });
    expect(await untaken(anna, 'refused')).toEqual([]);
    anna.send({ type: 'hangup', callId });
    await north.take('ended');

    anna.send({ type: 'open', callId });
    await expect(anna.take('refused')).resolves.toMatchObject({ callId, code: 'call_ended' });
    anna.send({ type: 'open', callId, nonce: first.nonce });
    await expect(anna.take('error')).resolves.toMatchObject({ error: { code: 'bad_payload' } });
    expect(await untaken(north, 'open')).toEqual([]);
    expect(openAudits()).toEqual(['call.open', 'call.open_refused', 'call.open_refused']);
    expect(site.store.listAudit({ action: 'call.open_refused' })).toMatchObject([
      { actor: 'guard:anna', detail: { code: 'already_opened' } },
      { actor: 'guard:anna', detail: { code: 'call_ended' } },
    ]);
  });

  it('refuses messages for calls that do not exist', async () => {
    const { anna, north } = await answeredCall();

    for (const type of ['answer', 'hangup', 'deny', 'open']) {
      anna.send({ type, callId: 'no-such-call' });
      await expect(anna.take('refused')).resolves.toMatchObject({
        request: type,
        code: 'call_not_found',
      });
    }
    anna.send({ type: 'signal', callId: 'no-such-call', signal: { kind: 'ice', data: null } });
    await expect(anna.take('refused')).resolves.toMatchObject({ code: 'call_not_found' });
    expect(await untaken(north, 'open')).toEqual([]);
  });

  it('answers garbage, binary and oversized frames with errors; a 1 MB frame closes only that console', async () => {
    const { site, anna, ben, north, callId } = await answeredCall();

    ben.socket.send('garbage');
    ben.socket.send(Buffer.from([0, 1, 2]));
    ben.socket.send(JSON.stringify({ type: 'ping', id: 1, pad: 'x'.repeat(200 * 1024) }));
    await ben.sync();
    const errors = ben.pending().filter((message) => message.type === 'error');
    expect(errors).toHaveLength(3);
    expect(errors.at(-2)).toMatchObject({ error: { message: 'binary messages are not accepted' } });
    expect(errors.at(-1)).toMatchObject({ error: { message: textMatching(/exceeds/) } });

    ben.socket.send('x'.repeat(1024 * 1024));
    expect(await ben.closed).toBe(1009);
    expect(await answersMe()).toBe(200);
    anna.send({ type: 'open', callId });
    await expect(north.take('open')).resolves.toMatchObject({ callId, guard: 'anna' });
    expect(site.running.app.intercom.guards.isOnline('ben')).toBe(false);
  });

  it('closes a console that keeps sending garbage with 4400, and the guard’s call goes on', async () => {
    const { site, anna, north, callId } = await answeredCall();
    const secondTab = await site.guard('anna');

    for (let i = 0; i < 500; i += 1) secondTab.socket.send(`garbage ${i}`);

    expect(await secondTab.closed).toBe(guardCloseCodes.abuse);
    expect(secondTab.pending().filter((message) => message.type === 'error')).toHaveLength(10);
    anna.send({ type: 'open', callId });
    await expect(north.take('open')).resolves.toMatchObject({ callId, guard: 'anna' });
  });
});
