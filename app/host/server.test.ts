import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { KioskError } from '../common/errors.js';
import {
  events,
  type CommandInput,
  type CommandName,
  type EventName,
  type EventPayload,
  type KioskService,
} from '../contract/api.js';
import {
  maxWsMessageBytes,
  wsPath,
  ServerMessageSchema,
  type ServerMessage,
} from '../contract/ws-protocol.js';
import { contentSecurityPolicy, startHost, type Host } from './server.js';
import { sampleView } from '../contract/testing/sample-view.js';

const view = sampleView();

/** A kiosk that records commands and lets the test push events. */
function fakeKiosk() {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const handle = vi.fn(
    (command: CommandName, input: CommandInput<CommandName>): Promise<unknown> => {
      void input;
      if (command === 'view:get') return Promise.resolve(view);
      if (command === 'visitor:cancel')
        return Promise.reject(new KioskError('disconnected', 'relay is gone'));
      if (command === 'visitor:showPrivacy') return Promise.reject(new Error('secret internals'));
      return Promise.resolve(undefined);
    },
  );
  const kiosk = {
    handle,
    subscribe: (event: string, listener: (payload: unknown) => void) => {
      const forEvent = listeners.get(event) ?? new Set();
      forEvent.add(listener);
      listeners.set(event, forEvent);
      return () => forEvent.delete(listener);
    },
  } as unknown as KioskService;

  const push = <E extends EventName>(event: E, payload: EventPayload<E>) =>
    listeners.get(event)?.forEach((listener) => listener(payload));
  const listening = () => [...listeners.values()].reduce((sum, set) => sum + set.size, 0);
  return { kiosk, handle, push, listening };
}

let folder: string;
let host: Host;
let fake: ReturnType<typeof fakeKiosk>;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'kiosk-host-'));
  const root = join(folder, 'renderer');
  await mkdir(join(root, 'assets'), { recursive: true });
  await writeFile(join(root, 'index.html'), '<!doctype html><title>kiosk</title>');
  await writeFile(join(root, 'assets', 'decoder.worker.js'), 'self.onmessage = () => {};');
  await writeFile(join(root, 'assets', 'zxing_reader.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
  await writeFile(join(folder, 'secret.txt'), 'outside the renderer');
  await symlink(join(folder, 'secret.txt'), join(root, 'link.txt'));

  fake = fakeKiosk();
  host = await startHost({ kiosk: fake.kiosk, port: 0, rendererDir: root });
});

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await host.close();
  await rm(folder, { recursive: true, force: true });
});

const origin = () => new URL(host.url).origin;
const wsUrl = (token: string | null = host.token) =>
  `ws://${new URL(host.url).host}${wsPath}${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;

/** Opens a WebSocket; rejects with the HTTP status when the upgrade is refused. */
function connect(
  url = wsUrl(),
  headers: Record<string, string> = { Origin: origin() },
): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers });
  sockets.push(ws);

  return new Promise((resolveOpen, rejectOpen) => {
    ws.once('open', () => resolveOpen(ws));
    ws.once('unexpected-response', (_request, response) =>
      rejectOpen(new Error(`status ${response.statusCode}`)),
    );
    ws.once('error', rejectOpen);
  });
}

/** The next message from the server, parsed with the protocol's own schema. */
function nextMessage(ws: WebSocket, timeoutMs = 3000): Promise<ServerMessage> {
  return new Promise((resolveMessage, rejectMessage) => {
    const timer = setTimeout(
      () => rejectMessage(new Error('no message within the timeout')),
      timeoutMs,
    );
    ws.once('message', (data: Buffer) => {
      clearTimeout(timer);
      resolveMessage(ServerMessageSchema.parse(JSON.parse(data.toString('utf8'))));
    });
  });
}

async function invoke(
  ws: WebSocket,
  id: number,
  command: string,
  input: unknown,
): Promise<ServerMessage> {
  const reply = nextMessage(ws);
  ws.send(JSON.stringify({ type: 'invoke', id, command, input }));
  return reply;
}

/** A raw GET, so that the path reaches the server exactly as written (no URL normalising). */
function rawGet(path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(host.url);

  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolveGet, rejectGet) => {
      const req = request({ hostname, port, path, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolveGet({ status: res.statusCode ?? 0, headers: res.headers, body }),
        );
      });
      req.on('error', rejectGet);
      req.end();
    },
  );
}

describe('the browser host over HTTP', () => {
  it('listens on loopback only and hands out a URL carrying the token', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    expect(host.url.endsWith(host.token)).toBe(true);
  });

  it('serves the page with the strict content security policy', async () => {
    const page = await rawGet('/?token=abc');

    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>kiosk</title>');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(contentSecurityPolicy);
    expect(contentSecurityPolicy).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(contentSecurityPolicy).toContain("connect-src 'self' ws://127.0.0.1:*");
  });

  it('serves workers as JavaScript and wasm as application/wasm', async () => {
    const worker = await rawGet('/assets/decoder.worker.js');
    const wasm = await rawGet('/assets/zxing_reader.wasm');

    expect(worker.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(wasm.headers['content-type']).toBe('application/wasm');
    expect(wasm.headers['x-content-type-options']).toBe('nosniff');
  });

  it.each(['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/link.txt'])(
    'refuses %s, which leads outside the renderer folder',
    async (path) => {
      const response = await rawGet(path);

      expect([403, 404]).toContain(response.status);
      expect(response.body).not.toContain('outside the renderer');
    },
  );

  it('answers 404 for a missing file and 405 for other methods', async () => {
    expect((await rawGet('/nope.js')).status).toBe(404);

    const { status } = await fetch(new URL('/index.html', host.url), { method: 'POST' });
    expect(status).toBe(405);
  });

  it('refuses requests addressed to another host name', async () => {
    const response = await rawGet('/index.html', { Host: 'attacker.example' });

    expect(response.status).toBe(403);
  });
});

describe('the browser host WebSocket', () => {
  it('refuses an upgrade without the token with 401', async () => {
    await expect(connect(wsUrl(null))).rejects.toThrow('status 401');
  });

  it('refuses an upgrade with a wrong token with 401', async () => {
    await expect(connect(wsUrl(`${host.token.slice(0, -1)}x`))).rejects.toThrow('status 401');
  });

  it('refuses an upgrade from another origin with 403', async () => {
    await expect(connect(wsUrl(), { Origin: 'http://evil.example' })).rejects.toThrow('status 403');
    await expect(connect(wsUrl(), {})).rejects.toThrow('status 403');
  });

  it('carries a command to the kiosk and its result back', async () => {
    const ws = await connect();

    const reply = await invoke(ws, 7, 'view:get', {});

    expect(reply).toEqual({ type: 'result', id: 7, output: view });
    expect(fake.handle).toHaveBeenCalledWith('view:get', {});
  });

  it('answers a command without a result with a result that has no output', async () => {
    const ws = await connect();

    const reply = await invoke(ws, 1, 'visitor:setLocale', { locale: 'en' });

    expect(reply).toStrictEqual({ type: 'result', id: 1 });
    expect(fake.handle).toHaveBeenCalledWith('visitor:setLocale', { locale: 'en' });
  });

  it('answers non-JSON with a bad_payload error and keeps the connection', async () => {
    const ws = await connect();

    const errorReply = nextMessage(ws);
    ws.send('{not json');
    expect(await errorReply).toMatchObject({
      type: 'error',
      id: null,
      error: { code: 'bad_payload' },
    });

    expect(await invoke(ws, 2, 'view:get', {})).toMatchObject({ type: 'result', id: 2 });
  });

  it('answers an oversized message with a bad_payload error and keeps the connection', async () => {
    const ws = await connect();

    const errorReply = nextMessage(ws);
    ws.send(
      JSON.stringify({
        type: 'invoke',
        id: 3,
        command: 'view:get',
        input: { pad: 'x'.repeat(maxWsMessageBytes) },
      }),
    );
    const reply = await errorReply;

    expect(reply).toMatchObject({ type: 'error', error: { code: 'bad_payload' } });
    expect(reply.type === 'error' && reply.error.message).toContain('exceeds');
    expect(await invoke(ws, 4, 'view:get', {})).toMatchObject({ type: 'result', id: 4 });
  });

  it('answers an unknown command with not_found and never reaches the kiosk', async () => {
    const ws = await connect();

    const reply = await invoke(ws, 5, 'gate:open', {});

    expect(reply).toMatchObject({ type: 'error', id: 5, error: { code: 'not_found' } });
    expect(fake.handle).not.toHaveBeenCalled();
  });

  it('answers a bad payload with an error naming the field and never reaches the kiosk', async () => {
    const ws = await connect();

    const reply = await invoke(ws, 6, 'visitor:setLocale', { locale: 'fr' });

    expect(reply).toMatchObject({ type: 'error', id: 6, error: { code: 'bad_payload' } });
    expect(reply.type === 'error' && reply.error.message).toContain('locale');
    expect(fake.handle).not.toHaveBeenCalled();
  });

  it('answers a message that is not an invoke with a bad_payload error', async () => {
    const ws = await connect();

    const errorReply = nextMessage(ws);
    ws.send(JSON.stringify({ type: 'subscribe', id: 9 }));
    expect(await errorReply).toMatchObject({
      type: 'error',
      id: 9,
      error: { code: 'bad_payload' },
    });
  });

  it('passes a kiosk error code through and hides other failures behind internal', async () => {
    const ws = await connect();

    expect(await invoke(ws, 10, 'visitor:cancel', {})).toMatchObject({
      error: { code: 'disconnected' },
    });

    const hidden = await invoke(ws, 11, 'visitor:showPrivacy', {});
    expect(hidden).toMatchObject({ type: 'error', id: 11, error: { code: 'internal' } });
    expect(JSON.stringify(hidden)).not.toContain('secret internals');
  });

  it('pushes every view change to every connected page', async () => {
    const first = await connect();
    const second = await connect();
    const arrivals = [nextMessage(first), nextMessage(second)];

    fake.push('view:changed', { ...view, screen: 'scanning' });

    for (const message of await Promise.all(arrivals)) {
      expect(message).toEqual({
        type: 'event',
        event: 'view:changed',
        payload: { ...view, screen: 'scanning' },
      });
    }
  });

  it('pushes the guard’s call signalling to the page as its own event', async () => {
    const ws = await connect();
    const arrival = nextMessage(ws);
    const signal = {
      callId: 'call-1',
      signal: { kind: 'answer' as const, data: { type: 'answer', sdp: 'v=0' } },
    };

    fake.push('call:signal', signal);

    expect(await arrival).toEqual({ type: 'event', event: 'call:signal', payload: signal });
  });

  it('subscribes to every event of the contract once, and to none after closing', async () => {
    expect(fake.listening()).toBe(Object.keys(events).length);

    await host.close();
    expect(fake.listening()).toBe(0);
    host = await startHost({ kiosk: fake.kiosk, rendererDir: folder });
  });

  it('closes connected pages when the host closes', async () => {
    const ws = await connect();
    const closed = new Promise<number>((resolveClose) =>
      ws.once('close', (code: number) => resolveClose(code)),
    );

    await host.close();
    host = await startHost({ kiosk: fake.kiosk, rendererDir: folder });

    expect(await closed).toBe(1001);
  });
});
