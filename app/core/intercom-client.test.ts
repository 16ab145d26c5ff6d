import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { startServer, type RunningServer } from '../../server/app.js';
import { parseServerConfig, type ServerConfig } from '../../server/config.js';
import type { ServerToKioskMessage } from '../contract/intercom-protocol.js';
import { openServerStore, type ServerStore } from '../../server/store.js';
import { hasCode } from '../common/errors.js';
import {
  IntercomClient,
  backoffDelayMs,
  channelUrl,
  type IntercomClientOptions,
  type IntercomState,
  type OpenCommand,
} from './intercom-client.js';
import { defaultCallFallback, parseConfig } from './config.js';
import { clearLoggedLines, loggedLines } from '../../server/testing/log-capture.js';

vi.mock('./log.js', () => import('../../server/testing/log-capture.js'));

interface Intercom {
  store: ServerStore;
  config: ServerConfig;
  running: RunningServer | undefined;
  folder: string;
}

const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => clearLoggedLines());

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real intercom server on a scratch store and a loopback port (free unless named), with a fast heartbeat. */
async function startIntercom(port = 0): Promise<Intercom> {
  const folder = await mkdtemp(join(tmpdir(), 'intercom-client-'));
  const store = openServerStore({ file: join(folder, 'intercom.db') });
  const config = parseServerConfig({ port, kiosks: { heartbeatSeconds: 0.2 } });
  const intercom: Intercom = {
    store,
    config,
    running: await startServer({ store, config }),
    folder,
  };

  cleanups.push(async () => {
    await intercom.running?.close();
    store.close();
    await rm(folder, { recursive: true, force: true });
  });
  return intercom;
}

function enrol(intercom: Intercom, id: string): string {
  const auth = intercom.running?.app.intercom.auth;
  if (!auth) throw new Error('the server is not running');

  return auth.enrolKiosk({ id, name: `Kiosk ${id}`, ringGroup: null }, 'test').secret;
}

function wsUrl(intercom: Intercom): string {
  if (!intercom.running) throw new Error('the server is not running');

  return intercom.running.url.replace('http', 'ws');
}

function client(options: IntercomClientOptions): IntercomClient {
  const made = new IntercomClient({ reconnectMinMs: 50, reconnectMaxMs: 400, ...options });
  cleanups.push(() => made.close());
  return made;
}

/** Resolves when the client reaches `state`, failing after `timeoutMs`. */
function reaches(
  intercomClient: IntercomClient,
  state: IntercomState,
  timeoutMs = 5000,
): Promise<void> {
  if (intercomClient.state === state) return Promise.resolve();

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      intercomClient.off('state', listener);
      reject(new Error(`still ${intercomClient.state} after ${timeoutMs} ms, expected ${state}`));
    }, timeoutMs);
    const listener = (next: IntercomState) => {
      if (next !== state) return;
      clearTimeout(timer);
      intercomClient.off('state', listener);
      resolve();
    };
    intercomClient.on('state', listener);
  });
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) =>
      setTimeout(
        () => reject(new Error(`${what} did not happen within ${timeoutMs} ms`)),
        timeoutMs,
      ).unref(),
    ),
  ]);
}

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The warnings the client logged about why it could not connect. */
function connectWarnings(): string[] {
  return loggedLines((line) => line.level === 'warn' && line.msg.startsWith('connect: ')).map(
    (line) => line.msg,
  );
}

/** Resolves once the client has made `attempts` connection attempts. */
async function attempted(intercomClient: IntercomClient, attempts: number): Promise<void> {
  await vi.waitFor(
    () => expect(intercomClient.diagnostics().attempts).toBeGreaterThanOrEqual(attempts),
    { timeout: 5000, interval: 20 },
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('intercom client', () => {
  it('connects, is welcomed and is listed online by the server', async () => {
    const intercom = await startIntercom();
    const secret = enrol(intercom, 'north-1');
    const kiosk = client({ url: wsUrl(intercom), kioskId: 'north-1', secret, version: '0.1.0' });

    kiosk.start();
    await reaches(kiosk, 'connected');

    expect(intercom.running?.app.intercom.kiosks.isOnline('north-1')).toBe(true);
    expect(intercom.running?.app.intercom.kiosks.onlineKiosks()[0]?.version).toBe('0.1.0');
  });

  it('says hello with the package version when none is given', async () => {
    const intercom = await startIntercom();
    const secret = enrol(intercom, 'north-1');
    const kiosk = client({ url: wsUrl(intercom), kioskId: 'north-1', secret });
    const packageFile = join(import.meta.dirname, '..', '..', 'package.json');
    const { version } = JSON.parse(readFileSync(packageFile, 'utf8')) as { version: string };

    kiosk.start();
    await reaches(kiosk, 'connected');

    expect(intercom.running?.app.intercom.kiosks.onlineKiosks()[0]?.version).toBe(version);
  });

  it('logs why it cannot connect once per cause, however often it retries', async () => {
    const port = await closedPort();
    const kiosk = client({ url: `ws://127.0.0.1:${port}/wrong`, kioskId: 'north-1', secret: 'x' });
    kiosk.start();
    await attempted(kiosk, 3);

    expect(connectWarnings()).toEqual([
      `connect: 127.0.0.1:${port} refused the connection (ECONNREFUSED): is the intercom server running, and are intercom.url's host and port right?`,
    ]);

    await startIntercom(port);
    const attempts = kiosk.diagnostics().attempts;
    await attempted(kiosk, attempts + 3);
    expect(connectWarnings().slice(1)).toEqual([
      'connect: the server answered HTTP 404 on /wrong: is intercom.url the kiosk channel (…/kiosk)?',
    ]);
  });

  it('names the HTTP answer when intercom.url points at the guards’ channel', async () => {
    const intercom = await startIntercom();
    const kiosk = client({ url: `${wsUrl(intercom)}/guard`, kioskId: 'north-1', secret: 'x' });

    kiosk.start();
    await attempted(kiosk, 2);

    expect(connectWarnings()).toEqual([
      'connect: the server answered HTTP 401 on /guard: is intercom.url the kiosk channel (…/kiosk)?',
    ]);
    expect(kiosk.state).toBe('disconnected');
  });

  it('measures the ping round trip to the server', async () => {
    const intercom = await startIntercom();
    const secret = enrol(intercom, 'north-1');
    const kiosk = client({ url: wsUrl(intercom), kioskId: 'north-1', secret });

    kiosk.start();
    const [roundTripMs] = (await withTimeout(once(kiosk, 'roundTrip'), 5000, 'a round trip')) as [
      number,
    ];

    expect(roundTripMs).toBeGreaterThan(0);
    expect(roundTripMs).toBeLessThan(1000);
    expect(kiosk.diagnostics().roundTripMs).toBe(roundTripMs);
  });

  it('is refused with a wrong secret and retries only at the slowest pace', async () => {
    const intercom = await startIntercom();
    enrol(intercom, 'north-1');
    const kiosk = client({
      url: wsUrl(intercom),
      kioskId: 'north-1',
      secret: 'not-the-secret',
      reconnectMinMs: 20,
      reconnectMaxMs: 1000,
    });
    const states: IntercomState[] = [];
    kiosk.on('state', (state) => states.push(state));

    kiosk.start();
    await reaches(kiosk, 'refused');
    await delay(1500);

    // Backing off from 20 ms, a client that ignored the refusal would have tried about seven times.
    expect(kiosk.diagnostics().attempts).toBeLessThanOrEqual(2);
    expect(states.filter((state) => state === 'refused')).toHaveLength(1);
    expect(kiosk.state).toBe('refused');
    expect(intercom.running?.app.intercom.kiosks.isOnline('north-1')).toBe(false);
  });

  it('reconnects within seconds when the server is restarted on the same port', async () => {
    const intercom = await startIntercom();
    const secret = enrol(intercom, 'north-1');
    const url = wsUrl(intercom);
    const kiosk = client({ url, kioskId: 'north-1', secret, reconnectMaxMs: 1000 });
    kiosk.start();
    await reaches(kiosk, 'connected');

    const port = (intercom.running?.app.server.address() as AddressInfo).port;
    await intercom.running?.close();
    await reaches(kiosk, 'disconnected');
    expect(() => kiosk.send({ type: 'ping', id: 1 })).toThrow(/not connected/);

    const config = { ...intercom.config, port };
    intercom.running = await startServer({ store: intercom.store, config });
    const restartedAt = Date.now();
    await reaches(kiosk, 'connected', 5000);

    expect(Date.now() - restartedAt).toBeLessThan(3000);
    expect(intercom.running.app.intercom.kiosks.isOnline('north-1')).toBe(true);
  });

  it('drops malformed messages from the server and stays connected', async () => {
    const intercom = await startIntercom();
    const secret = enrol(intercom, 'north-1');
    const kiosk = client({
      url: wsUrl(intercom),
      kioskId: 'north-1',
      secret,
      pingIntervalMs: 60_000,
    });
    const received: ServerToKioskMessage[] = [];
    kiosk.onMessage((message) => received.push(message));
    kiosk.start();
    await reaches(kiosk, 'connected');
    const kiosks = intercom.running?.app.intercom.kiosks;

    const bogus = [
      { type: 'unlock-everything' },
      { type: 'pong', id: -1 },
      { type: 'error', error: {} },
    ];
    for (const message of bogus)
      kiosks?.send('north-1', message as unknown as ServerToKioskMessage);
    const valid: ServerToKioskMessage = {
      type: 'error',
      error: { code: 'conflict', message: 'test' },
    };
    kiosks?.send('north-1', valid);
    await withTimeout(once(kiosk, 'message'), 2000, 'the valid message');

    expect(received).toEqual([valid]);
    expect(kiosk.state).toBe('connected');
  });

  it('drops non-JSON and binary frames, gives up on a server that never welcomes, and retries', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await once(server, 'listening');
    const welcome = JSON.stringify({ type: 'welcome', kioskId: 'north-1', heartbeatSeconds: 60 });
    let connections = 0;
    server.on('connection', (socket) => {
      connections += 1;
      const first = connections === 1;
      socket.once('message', () => {
        // The first connection only ever gets frames the client must drop, the second a real welcome.
        if (first) socket.send(Buffer.from(welcome), { binary: true });
        if (first) socket.send('{not json');
        if (!first) socket.send(welcome);
      });
    });
    const port = (server.address() as AddressInfo).port;
    const kiosk = client({
      url: `ws://127.0.0.1:${port}`,
      kioskId: 'north-1',
      secret: 'x',
      helloTimeoutMs: 300,
    });
    const states: IntercomState[] = [];
    kiosk.on('state', (state) => states.push(state));

    kiosk.start();
    await reaches(kiosk, 'connected');

    expect(states).toEqual(['connecting', 'disconnected', 'connected']);
    expect(connections).toBe(2);
  });

  it('routes an open command to the bound handler only, never to message listeners', async () => {
    const intercom = await startIntercom();
    const secret = enrol(intercom, 'north-1');
    const kiosk = client({
      url: wsUrl(intercom),
      kioskId: 'north-1',
      secret,
      pingIntervalMs: 60_000,
    });
    const received: ServerToKioskMessage[] = [];
    kiosk.onMessage((message) => received.push(message));
    const opened = new Promise<OpenCommand>((resolve) => kiosk.onOpenCommand(resolve));
    kiosk.start();
    await reaches(kiosk, 'connected');

    const command: OpenCommand = {
      type: 'open',
      callId: 'call-1',
      guard: 'guard-7',
      issuedAt: Date.now(),
      nonce: 'nonce-12345678',
    };
    intercom.running?.app.intercom.kiosks.send('north-1', command);

    expect(await withTimeout(opened, 2000, 'the open command')).toEqual(command);
    expect(received).toEqual([]);
  });

  it('drops a server that stops answering pings and connects again', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await once(server, 'listening');
    let connections = 0;
    server.on('connection', (socket) => {
      connections += 1;
      // Welcomes with a fast beat, then never answers a ping: a server that hung.
      socket.once('message', () =>
        socket.send(
          JSON.stringify({ type: 'welcome', kioskId: 'north-1', heartbeatSeconds: 0.05 }),
        ),
      );
    });
    const port = (server.address() as AddressInfo).port;
    const kiosk = client({ url: `ws://127.0.0.1:${port}`, kioskId: 'north-1', secret: 'x' });
    kiosk.start();
    await reaches(kiosk, 'connected');

    await reaches(kiosk, 'disconnected', 2000);
    await reaches(kiosk, 'connected', 2000);

    expect(connections).toBe(2);
    expect(kiosk.diagnostics().roundTripMs).toBeUndefined();
  });

  it('refuses to send when not connected and refuses messages outside the protocol', async () => {
    const intercom = await startIntercom();
    const secret = enrol(intercom, 'north-1');
    const kiosk = client({ url: wsUrl(intercom), kioskId: 'north-1', secret });

    expect(() => kiosk.send({ type: 'ping', id: 1 })).toThrow(
      expect.objectContaining({ code: 'disconnected' }),
    );
    kiosk.start();
    await reaches(kiosk, 'connected');

    let thrown: unknown;
    try {
      kiosk.send({ type: 'ping', id: -5 });
    } catch (error) {
      thrown = error;
    }
    expect(hasCode(thrown, 'bad_payload')).toBe(true);
  });

  it('stops reconnecting once closed', async () => {
    const intercom = await startIntercom();
    const secret = enrol(intercom, 'north-1');
    const kiosk = client({ url: wsUrl(intercom), kioskId: 'north-1', secret, reconnectMaxMs: 100 });
    kiosk.start();
    await reaches(kiosk, 'connected');

    const port = (intercom.running?.app.server.address() as AddressInfo).port;
    await intercom.running?.close();
    await reaches(kiosk, 'disconnected');
    await kiosk.close();
    const attempts = kiosk.diagnostics().attempts;
    intercom.running = await startServer({
      store: intercom.store,
      config: { ...intercom.config, port },
    });
    // Nothing can be awaited for a reconnect that must not happen: watch well past the retry pace.
    await delay(500);

    expect(kiosk.state).toBe('closed');
    expect(kiosk.diagnostics().attempts).toBe(attempts);
    expect(intercom.running.app.intercom.kiosks.isOnline('north-1')).toBe(false);
  });

  it('takes its intercom settings from the kiosk configuration with bounded backoff', () => {
    const intercom = { url: 'wss://intercom.example/kiosk', kioskId: 'north-1', secret: 's3cret' };

    expect(parseConfig({}).intercom).toBeUndefined();
    expect(parseConfig({ intercom }).intercom).toEqual({
      ...intercom,
      reconnectMinMs: 500,
      reconnectMaxMs: 10_000,
      fallback: defaultCallFallback,
      hangUpAfterOpenSeconds: 5,
      allowUnencrypted: false,
    });
    expect(() =>
      parseConfig({ intercom: { ...intercom, url: 'http://intercom.example' } }),
    ).toThrow(/intercom\.url/);
    expect(() =>
      parseConfig({ intercom: { ...intercom, reconnectMinMs: 5000, reconnectMaxMs: 1000 } }),
    ).toThrow(/intercom\.reconnectMaxMs/);
  });

  it('backs off with a doubling ceiling, bounded by min and max, jittered over the whole range', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 12].map((failures) =>
      backoffDelayMs(failures, 100, 1000, 1),
    );
    const floors = [1, 4, 12].map((failures) => backoffDelayMs(failures, 100, 1000, 0));

    expect(ceilings).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(floors).toEqual([100, 100, 100]);
    expect(backoffDelayMs(3, 100, 1000, 0.5)).toBe(250);
  });

  it('appends the kiosk channel path to a bare server address only', () => {
    expect(channelUrl('wss://intercom.example')).toBe('wss://intercom.example/kiosk');
    expect(channelUrl('wss://intercom.example/gate/kiosk')).toBe(
      'wss://intercom.example/gate/kiosk',
    );
    expect(() => channelUrl('https://intercom.example')).toThrow(/ws:\/\/ or wss:\/\//);
  });
});
