import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  guardChannelPath,
  guardCloseCodes,
  type ServerToGuardMessage,
} from '../app/contract/intercom-protocol.js';
import {
  adminName,
  adminPassword,
  login,
  makeServer,
  type TestServer,
} from './testing/fixtures.js';

let server: TestServer;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await server.close();
});

function guardUrl(): string {
  return `${server.url?.replace('http', 'ws')}${guardChannelPath}`;
}

/** Resolves with the HTTP status of a refused upgrade, or rejects if the socket opened. */
function refusedStatus(headers: Record<string, string>): Promise<number> {
  const socket = new WebSocket(guardUrl(), { headers });
  // ws reports the refused handshake as an error too; the status is what the test reads.
  socket.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('open', () => reject(new Error('the upgrade was accepted')));
  });
}

/** A logged-in admin's console and a reader of its next message. */
async function openConsole(): Promise<{
  socket: WebSocket;
  cookie: string;
  next(): Promise<ServerToGuardMessage>;
}> {
  const cookie = await login(server.app, adminName, adminPassword);
  const socket = new WebSocket(guardUrl(), { headers: { cookie } });
  sockets.push(socket);
  const queue: ServerToGuardMessage[] = [];
  const waiting: ((message: ServerToGuardMessage) => void)[] = [];
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as ServerToGuardMessage;
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  await once(socket, 'open');

  const next = () => {
    const queued = queue.shift();
    return queued
      ? Promise.resolve(queued)
      : new Promise<ServerToGuardMessage>((resolve) => waiting.push(resolve));
  };
  return { socket, cookie, next };
}

describe('guard control channel', () => {
  it('refuses the upgrade with 401 without a live session cookie', async () => {
    server = await makeServer({}, { listen: true });

    await expect(refusedStatus({})).resolves.toBe(401);
    await expect(refusedStatus({ cookie: 'intercom_session=forged' })).resolves.toBe(401);
  });

  it('refuses the upgrade with 403 from a page on another origin, even with a live session', async () => {
    server = await makeServer({}, { listen: true });
    const cookie = await login(server.app, adminName, adminPassword);
    const ownOrigin = server.url ?? '';

    await expect(refusedStatus({ cookie, origin: 'http://attacker.example' })).resolves.toBe(403);
    await expect(refusedStatus({ cookie, origin: 'null' })).resolves.toBe(403);
    const own = new WebSocket(guardUrl(), { headers: { cookie, origin: ownOrigin } });
    sockets.push(own);
    await expect(once(own, 'open')).resolves.toBeDefined();
  });

  it('welcomes a logged-in guard and lists them online until the console closes', async () => {
    server = await makeServer({}, { listen: true });
    const console = await openConsole();

    await expect(console.next()).resolves.toEqual({ type: 'welcome', guard: adminName });
    await expect(console.next()).resolves.toEqual({ type: 'queue', calls: [] });
    expect(server.app.intercom.guards.isOnline(adminName)).toBe(true);
    const offline = once(server.app.intercom.guards, 'offline');
    console.socket.close();

    await expect(offline).resolves.toEqual([adminName, 'connection closed']);
    expect(server.app.intercom.guards.isOnline(adminName)).toBe(false);
  });

  it('answers malformed and oversized messages with an error and keeps the connection', async () => {
    server = await makeServer({ kiosks: { maxMessageBytes: 1024 } }, { listen: true });
    const console = await openConsole();
    await console.next();
    await console.next();

    console.socket.send('{not json');
    await expect(console.next()).resolves.toMatchObject({ error: { code: 'bad_payload' } });
    console.socket.send(JSON.stringify({ type: 'open', callId: 'x'.repeat(2000) }));
    const oversized = await console.next();
    expect(oversized.type === 'error' && oversized.error.message).toMatch(/exceeds 1024/);
    console.socket.send(JSON.stringify({ type: 'teleport' }));
    await expect(console.next()).resolves.toMatchObject({ error: { code: 'bad_payload' } });

    console.socket.send(JSON.stringify({ type: 'ping', id: 7 }));
    await expect(console.next()).resolves.toEqual({ type: 'pong', id: 7 });
  });

  it('names a field the protocol does not have in its answer', async () => {
    server = await makeServer({}, { listen: true });
    const console = await openConsole();
    await console.next();
    await console.next();

    console.socket.send(JSON.stringify({ type: 'ping', id: 2, pad: 'x' }));

    await expect(console.next()).resolves.toEqual({
      type: 'error',
      error: {
        code: 'bad_payload',
        message: 'message does not match the protocol (unknown field pad)',
      },
    });
  });

  it('closes a console that keeps sending bad messages with 4400, and audits it', async () => {
    server = await makeServer({ kiosks: { maxBadMessages: 3 } }, { listen: true });
    const console = await openConsole();
    await console.next();
    await console.next();
    const closed = new Promise<number>((resolve) => console.socket.once('close', resolve));

    for (let i = 0; i < 3; i += 1) console.socket.send('{not json');

    await expect(closed).resolves.toBe(guardCloseCodes.abuse);
    expect(server.app.intercom.guards.isOnline(adminName)).toBe(false);
    const audit = server.store.listAudit({ action: 'guard.closed_for_bad_messages' });
    expect(audit.map(({ actor, detail }) => ({ actor, detail }))).toEqual([
      {
        actor: 'system',
        detail: {
          guard: adminName,
          remote: '127.0.0.1',
          badMessages: 3,
          lastReason: 'message is not JSON',
        },
      },
    ]);
  });

  it('closes a console at once when its session is logged out', async () => {
    server = await makeServer({}, { listen: true });
    const console = await openConsole();
    await console.next();
    await console.next();
    const closed = new Promise<number>((resolve) => console.socket.once('close', resolve));

    await server.app.inject({
      method: 'POST',
      url: '/api/logout',
      headers: { cookie: console.cookie },
    });

    await expect(console.next()).resolves.toMatchObject({ error: { code: 'unauthorised' } });
    await expect(closed).resolves.toBe(guardCloseCodes.sessionEnded);
  });
});
