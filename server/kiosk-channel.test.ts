import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import {
  kioskChannelPath,
  kioskCloseCodes,
  type ServerToKioskMessage,
} from '../app/contract/intercom-protocol.js';
import {
  adminName,
  adminPassword,
  enrolKiosk,
  login,
  makeServer,
  type TestServer,
} from './testing/fixtures.js';
import { clearLoggedLines, loggedLines } from './testing/log-capture.js';

vi.mock('../app/core/log.js', () => import('./testing/log-capture.js'));

interface Client {
  socket: WebSocket;
  next(): Promise<ServerToKioskMessage>;
  closed: Promise<{ code: number; reason: string }>;
}

let server: TestServer;
const clients: Client[] = [];

beforeEach(() => clearLoggedLines());

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.terminate();
  await server.close();
});

async function start(raw: Record<string, unknown> = {}): Promise<{ adminCookie: string }> {
  server = await makeServer(raw, { listen: true });
  return { adminCookie: await login(server.app, adminName, adminPassword) };
}

/** A real ws client on loopback that queues what the server sends. */
async function connect(options: ClientOptions = {}): Promise<Client> {
  const url = `${server.url?.replace('http', 'ws')}${kioskChannelPath}`;
  const socket = new WebSocket(url, options);
  const queue: ServerToKioskMessage[] = [];
  const waiting: ((message: ServerToKioskMessage) => void)[] = [];
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as ServerToKioskMessage;
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await once(socket, 'open');

  const next = () => {
    const queued = queue.shift();
    return queued
      ? Promise.resolve(queued)
      : new Promise<ServerToKioskMessage>((resolve) => waiting.push(resolve));
  };
  const client = { socket, next, closed };
  clients.push(client);
  return client;
}

async function helloAs(
  kioskId: string,
  secret: string,
  options: ClientOptions = {},
): Promise<Client> {
  const client = await connect(options);
  client.socket.send(JSON.stringify({ type: 'hello', kioskId, secret, version: '0.1.0' }));
  return client;
}

function refusals(): unknown[] {
  return server.store.listAudit({ action: 'kiosk.refused' }).map((entry) => entry.detail);
}

describe('kiosk control channel', () => {
  it('welcomes an enrolled kiosk and lists it online until it leaves', async () => {
    const { adminCookie } = await start();
    const secret = await enrolKiosk(server.app, adminCookie, 'north-1');

    const kiosk = await helloAs('north-1', secret);

    expect(await kiosk.next()).toEqual({
      type: 'welcome',
      kioskId: 'north-1',
      heartbeatSeconds: 15,
    });
    const listed = await server.app.inject({
      method: 'GET',
      url: '/api/kiosks',
      headers: { cookie: adminCookie },
    });
    expect(listed.json()).toMatchObject({ kiosks: [{ id: 'north-1', online: true }] });

    const offline = once(server.app.intercom.kiosks, 'offline');
    kiosk.socket.close();
    expect((await offline)[0]).toBe('north-1');
    expect(server.app.intercom.kiosks.isOnline('north-1')).toBe(false);
  });

  it('answers an upgrade on a path with no channel with HTTP 404', async () => {
    await start();
    const socket = new WebSocket(`${server.url?.replace('http', 'ws')}/wrong`);
    // ws reports the refused handshake as an error too; the status is what the test reads.
    socket.on('error', () => undefined);

    const [, response] = (await once(socket, 'unexpected-response')) as [unknown, IncomingMessage];
    socket.terminate();

    expect(response.statusCode).toBe(404);
  });

  it('refuses an unknown kiosk, closes with a coded reason and audits it', async () => {
    await start();

    const stranger = await helloAs('south-9', 'made-up-secret');

    expect(await stranger.next()).toMatchObject({ type: 'error', error: { code: 'unauthorised' } });
    const closed = await stranger.closed;
    expect(closed.code).toBe(kioskCloseCodes.refused);
    expect(closed.reason).toMatch(/^unauthorised: /);
    expect(refusals()).toEqual([{ kioskId: 'south-9', reason: 'unknown', remote: '127.0.0.1' }]);
  });

  it('refuses a wrong secret and a revoked kiosk, and audits both', async () => {
    const { adminCookie } = await start();
    const secret = await enrolKiosk(server.app, adminCookie, 'north-1');

    const guessed = await helloAs('north-1', `${secret}x`);
    expect((await guessed.closed).code).toBe(kioskCloseCodes.refused);

    await server.app.inject({
      method: 'POST',
      url: '/api/kiosks/north-1/revoke',
      headers: { cookie: adminCookie },
    });
    const revoked = await helloAs('north-1', secret);
    expect((await revoked.closed).code).toBe(kioskCloseCodes.refused);

    expect(refusals()).toMatchObject([{ reason: 'wrong secret' }, { reason: 'revoked' }]);
  });

  it('closes a connected kiosk the moment it is revoked', async () => {
    const { adminCookie } = await start();
    const secret = await enrolKiosk(server.app, adminCookie, 'north-1');
    const kiosk = await helloAs('north-1', secret);
    await kiosk.next();

    await server.app.inject({
      method: 'POST',
      url: '/api/kiosks/north-1/revoke',
      headers: { cookie: adminCookie },
    });

    expect((await kiosk.closed).code).toBe(kioskCloseCodes.revoked);
    expect(server.store.listAudit({ action: 'kiosk.revoked' })).toHaveLength(1);
  });

  it('closes a connection that says no hello within the allowed time, and audits it', async () => {
    await start({ kiosks: { helloSeconds: 0.2 } });

    const silent = await connect();

    expect(await silent.next()).toMatchObject({ type: 'error', error: { code: 'timeout' } });
    expect((await silent.closed).code).toBe(kioskCloseCodes.helloTimeout);
    expect(refusals()).toEqual([
      { kioskId: null, reason: 'no hello in time', remote: '127.0.0.1' },
    ]);
  });

  it('answers malformed and oversized messages with an error and keeps the connection', async () => {
    const { adminCookie } = await start();
    const secret = await enrolKiosk(server.app, adminCookie, 'north-1');
    const kiosk = await helloAs('north-1', secret);
    await kiosk.next();

    const bad = [
      'not json',
      JSON.stringify({ type: 'dance' }),
      JSON.stringify({ type: 'ping', id: -1 }),
      'x'.repeat(128 * 1024 + 1),
    ];
    for (const message of bad) {
      kiosk.socket.send(message);
      expect(await kiosk.next()).toMatchObject({ type: 'error', error: { code: 'bad_payload' } });
    }
    kiosk.socket.send(Buffer.from([1, 2, 3]));
    expect(await kiosk.next()).toMatchObject({
      error: { message: 'binary messages are not accepted' },
    });

    kiosk.socket.send(JSON.stringify({ type: 'ping', id: 7 }));
    expect(await kiosk.next()).toEqual({ type: 'pong', id: 7 });
    expect(server.app.intercom.kiosks.isOnline('north-1')).toBe(true);
  });

  it('closes a connection only after repeated abuse, and the server keeps serving others', async () => {
    const { adminCookie } = await start({ kiosks: { maxBadMessages: 3 } });
    const secret = await enrolKiosk(server.app, adminCookie, 'north-1');
    const other = await enrolKiosk(server.app, adminCookie, 'north-2');
    const abuser = await helloAs('north-1', secret);
    await abuser.next();

    for (let i = 0; i < 3; i += 1) abuser.socket.send('{');

    expect((await abuser.closed).code).toBe(kioskCloseCodes.abuse);
    const polite = await helloAs('north-2', other);
    expect(await polite.next()).toMatchObject({ type: 'welcome', kioskId: 'north-2' });
  });

  it('logs closing an abusive kiosk as a warning and audits it', async () => {
    const { adminCookie } = await start({ kiosks: { maxBadMessages: 2 } });
    const secret = await enrolKiosk(server.app, adminCookie, 'north-1');
    const abuser = await helloAs('north-1', secret);
    await abuser.next();

    abuser.socket.send('{');
    abuser.socket.send(JSON.stringify({ type: 'ping', id: 1, pad: 'x' }));
    await abuser.closed;

    const closing = loggedLines((line) => line.msg.startsWith('message: too many bad messages'));
    expect(closing).toMatchObject([{ level: 'warn', kioskId: 'north-1', count: 2 }]);
    const audit = server.store.listAudit({ action: 'kiosk.closed_for_bad_messages' });
    expect(audit.map((entry) => entry.detail)).toEqual([
      {
        kioskId: 'north-1',
        remote: '127.0.0.1',
        badMessages: 2,
        lastReason: 'message does not match the protocol (unknown field pad)',
      },
    ]);
  });

  it('drops a frame far above the limit inside ws and stays up', async () => {
    const { adminCookie } = await start();
    const secret = await enrolKiosk(server.app, adminCookie, 'north-1');
    const kiosk = await helloAs('north-1', secret);
    await kiosk.next();

    kiosk.socket.send('x'.repeat(1024 * 1024));

    expect((await kiosk.closed).code).toBe(1009);
    const again = await helloAs('north-1', secret);
    expect(await again.next()).toMatchObject({ type: 'welcome' });
  });

  it('marks a kiosk offline once it misses two heartbeats', async () => {
    const { adminCookie } = await start({ kiosks: { heartbeatSeconds: 0.1 } });
    const secret = await enrolKiosk(server.app, adminCookie, 'north-1');
    const answering = await enrolKiosk(server.app, adminCookie, 'north-2');
    const mute = await helloAs('north-1', secret, { autoPong: false });
    const alive = await helloAs('north-2', answering);
    await mute.next();
    await alive.next();

    const offline: unknown[] = await once(server.app.intercom.kiosks, 'offline');

    expect(offline).toEqual(['north-1', 'missed two heartbeats']);
    expect(server.app.intercom.kiosks.isOnline('north-2')).toBe(true);
  });

  it('replaces an older connection of the same kiosk, so a reconnect is never locked out', async () => {
    const { adminCookie } = await start();
    const secret = await enrolKiosk(server.app, adminCookie, 'north-1');
    const first = await helloAs('north-1', secret);
    await first.next();

    const second = await helloAs('north-1', secret);

    expect(await second.next()).toMatchObject({ type: 'welcome' });
    expect((await first.closed).code).toBe(kioskCloseCodes.replaced);
    expect(server.app.intercom.kiosks.onlineKiosks()).toHaveLength(1);
  });
});
