import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RemoteOpenCommandSchema } from '../app/core/remote-open.js';
import { startServer, type RunningServer } from './app.js';
import type { CallTimings } from './call-service.js';
import { parseServerConfig } from './config.js';
import { guardChannelPath, kioskChannelPath } from '../app/contract/intercom-protocol.js';
import { openServerStore, type ServerStore } from './store.js';
import { adminName, adminPassword, login } from './testing/fixtures.js';

type Message = { type: string } & Record<string, unknown>;

/** A real ws client on loopback that keeps what the server sends until a test takes it. */
interface Client {
  socket: WebSocket;
  send(message: Record<string, unknown>): void;
  /** The next not yet taken message of `type` (and matching `where`); rejects after 3 s. */
  take(type: string, where?: (message: Message) => boolean): Promise<Message>;
  /** Every message received and not yet taken. */
  pending(): Message[];
  /** A ping/pong round trip: everything the server sent before it has arrived. */
  sync(): Promise<void>;
}

interface Setup {
  running: RunningServer;
  store: ServerStore;
  cleanup(): Promise<void>;
}

let setup: Setup | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await setup?.cleanup();
  setup = undefined;
});

/** A listening server with guards `anna` and `ben` in the ring group of kiosks `north-1`, `south-1`. */
async function start(
  timings: CallTimings = {},
): Promise<{ url: string; secrets: Record<string, string>; cookies: Record<string, string> }> {
  const folder = await mkdtemp(join(tmpdir(), 'intercom-calls-'));
  const store = openServerStore({ file: join(folder, 'intercom.db') });
  const config = parseServerConfig({ port: 0 });
  const running = await startServer({ store, config, calls: timings });
  setup = {
    running,
    store,
    cleanup: async () => {
      await running.close();
      store.close();
      await rm(folder, { recursive: true, force: true });
    },
  };

  const { auth } = running.app.intercom;
  await auth.createGuard(adminName, adminPassword, 'admin', 'test');
  const anna = await auth.createGuard('anna', 'anna password 1', 'guard', 'test');
  const ben = await auth.createGuard('ben', 'ben password 22', 'guard', 'test');
  store.saveRingGroup({ id: 'gate', name: 'Gate', guardIds: [anna.id, ben.id] });
  const secrets = {
    'north-1': auth.enrolKiosk({ id: 'north-1', name: 'North gate', ringGroup: 'gate' }, 'test')
      .secret,
    'south-1': auth.enrolKiosk({ id: 'south-1', name: 'South gate', ringGroup: 'gate' }, 'test')
      .secret,
  };
  const cookies = {
    anna: await login(running.app, 'anna', 'anna password 1'),
    ben: await login(running.app, 'ben', 'ben password 22'),
  };
  return { url: running.url.replace('http', 'ws'), secrets, cookies };
}

async function connect(url: string, cookie?: string): Promise<Client> {
  const socket = new WebSocket(url, cookie ? { headers: { cookie } } : {});
  sockets.push(socket);
  const inbox: Message[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data: Buffer) => {
    inbox.push(JSON.parse(data.toString()) as Message);
    for (const wake of [...waiters]) wake();
  });
  await once(socket, 'open');

  const take = (type: string, where: (message: Message) => boolean = () => true) =>
    new Promise<Message>((resolve, reject) => {
      const check = () => {
        const index = inbox.findIndex((message) => message.type === type && where(message));
        if (index < 0) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(inbox.splice(index, 1)[0]);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${type} in ${JSON.stringify(inbox)}`));
      }, 3000);
      waiters.add(check);
      check();
    });
  let pings = 0;
  const client: Client = {
    socket,
    send: (message) => socket.send(JSON.stringify(message)),
    take,
    pending: () => [...inbox],
    sync: async () => {
      const id = ++pings;
      client.send({ type: 'ping', id });
      await take('pong', (message) => message.id === id);
    },
  };
  return client;
}

async function kiosk(url: string, kioskId: string, secret: string): Promise<Client> {
  const client = await connect(`${url}${kioskChannelPath}`);
  client.send({ type: 'hello', kioskId, secret });
  await client.take('welcome');
  return client;
}

async function guard(url: string, cookie: string): Promise<Client> {
  const client = await connect(`${url}${guardChannelPath}`, cookie);
  await client.take('welcome');
  return client;
}

function auditActions(): string[] {
  return (setup?.store.listAudit({}) ?? []).map((entry) => entry.action);
}

/** The kiosk presses call and both guards ring; returns the call id. */
async function ringBoth(north: Client, anna: Client, ben: Client): Promise<string> {
  north.send({ type: 'call' });
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
    const { url, secrets, cookies } = await start();
    const anna = await guard(url, cookies.anna);
    const ben = await guard(url, cookies.ben);
    const north = await kiosk(url, 'north-1', secrets['north-1']);

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
    await north.sync();
    expect(north.pending().filter((message) => message.type === 'open')).toEqual([]);

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
    const { url, secrets, cookies } = await start({ ringTimeoutMs: 150 });
    const anna = await guard(url, cookies.anna);
    const ben = await guard(url, cookies.ben);
    const north = await kiosk(url, 'north-1', secrets['north-1']);

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
    const { url, secrets, cookies } = await start({ maxCallMs: 400, warnBeforeEndMs: 300 });
    const anna = await guard(url, cookies.anna);
    const ben = await guard(url, cookies.ben);
    const north = await kiosk(url, 'north-1', secrets['north-1']);
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
    const { url, secrets, cookies } = await start();
    const anna = await guard(url, cookies.anna);
    const ben = await guard(url, cookies.ben);
    const north = await kiosk(url, 'north-1', secrets['north-1']);
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
    const { url, secrets, cookies } = await start();
    const anna = await guard(url, cookies.anna);
    const ben = await guard(url, cookies.ben);
    const north = await kiosk(url, 'north-1', secrets['north-1']);
    const south = await kiosk(url, 'south-1', secrets['south-1']);
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

  it('ends the call when its guard disconnects and refuses a call when no guard is online', async () => {
    const { url, secrets, cookies } = await start();
    const anna = await guard(url, cookies.anna);
    const ben = await guard(url, cookies.ben);
    const north = await kiosk(url, 'north-1', secrets['north-1']);
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
    const { url, secrets, cookies } = await start();
    const anna = await guard(url, cookies.anna);
    const ben = await guard(url, cookies.ben);
    const north = await kiosk(url, 'north-1', secrets['north-1']);
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
});
