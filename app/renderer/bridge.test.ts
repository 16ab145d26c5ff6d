import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KioskView } from '../contract/api.js';
import { KioskError } from '../common/errors.js';
import { WebSocketKioskApi, hostSocketUrl, type SocketHandlers } from './bridge.js';
import { sampleView } from '../contract/testing/sample-view.js';

/** A socket the test drives by hand: it records what the bridge sent and plays the host. */
class FakeSocket {
  readonly sent: unknown[] = [];
  closed = false;

  constructor(
    readonly url: string,
    readonly handlers: SocketHandlers,
  ) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.closed = true;
  }

  reply(message: unknown): void {
    this.handlers.message(JSON.stringify(message));
  }

  lastInvoke(): { id: number; command: string; input: unknown } {
    return this.sent.at(-1) as { id: number; command: string; input: unknown };
  }
}

const view = sampleView({ gateName: 'North gate', siteName: 'Garden Court' });

function setup(options: { invokeTimeoutMs?: number } = {}) {
  const sockets: FakeSocket[] = [];
  const api = new WebSocketKioskApi({
    url: 'ws://127.0.0.1:1/api?token=t',
    connect: (url, handlers) => {
      const socket = new FakeSocket(url, handlers);
      sockets.push(socket);
      return socket;
    },
    initialBackoffMs: 100,
    maxBackoffMs: 400,
    ...options,
  });

  return { api, sockets, current: () => sockets.at(-1)! };
}

describe('WebSocketKioskApi', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('holds an invoke until the socket opens, then resolves with the checked output', async () => {
    const { api, current } = setup();
    const answer = api.invoke('view:get', {});
    expect(current().sent).toEqual([]);

    current().handlers.open();
    const sent = current().lastInvoke();
    expect(sent).toMatchObject({ type: 'invoke', command: 'view:get', input: {} });

    current().reply({ type: 'result', id: sent.id, output: view });
    await expect(answer).resolves.toEqual(view);
  });

  it('resolves a command without output when the host omits it', async () => {
    const { api, current } = setup();
    current().handlers.open();
    const answer = api.invoke('visitor:touch', {});

    current().reply({ type: 'result', id: current().lastInvoke().id });
    await expect(answer).resolves.toBeUndefined();
  });

  it('rejects with the host error code when the host answers with an error', async () => {
    const { api, current } = setup();
    current().handlers.open();
    const answer = api.invoke('visitor:startScan', {});

    current().reply({
      type: 'error',
      id: current().lastInvoke().id,
      error: { code: 'bad_payload', message: 'nope' },
    });
    await expect(answer).rejects.toMatchObject({ name: 'KioskError', code: 'bad_payload' });
  });

  it('rejects an output that does not fit the command schema', async () => {
    const { api, current } = setup();
    current().handlers.open();
    const answer = api.invoke('view:get', {});

    current().reply({ type: 'result', id: current().lastInvoke().id, output: { screen: 'bogus' } });
    await expect(answer).rejects.toMatchObject({ code: 'bad_payload' });
  });

  it('refuses bad input before anything reaches the socket', async () => {
    const { api, current } = setup();
    current().handlers.open();
    const input = { locale: 'fr' } as unknown as { locale: 'en' };

    await expect(api.invoke('visitor:setLocale', input)).rejects.toMatchObject({
      code: 'bad_payload',
    });
    expect(current().sent).toEqual([]);
  });

  it('rejects in-flight invokes with a disconnected error when the socket closes', async () => {
    const { api, current } = setup();
    current().handlers.open();
    const answer = api.invoke('visitor:cancel', {});

    current().handlers.close();
    const error: unknown = await answer.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KioskError);
    expect(error).toMatchObject({ code: 'disconnected' });
  });

  it('rejects with a timeout when the host never answers', async () => {
    const { api, current } = setup({ invokeTimeoutMs: 1000 });
    current().handlers.open();
    const answer = api.invoke('visitor:cancel', {});
    const settled = answer.catch((caught: unknown) => caught);

    await vi.advanceTimersByTimeAsync(1000);
    expect(await settled).toMatchObject({ code: 'timeout' });
  });

  it('delivers checked events to listeners and drops events that do not fit', () => {
    const { api, current } = setup();
    current().handlers.open();
    const seen: KioskView[] = [];
    api.on('view:changed', (payload) => seen.push(payload));

    current().reply({ type: 'event', event: 'view:changed', payload: { screen: 'idle' } });
    current().reply({ type: 'event', event: 'no:such', payload: view });
    current().handlers.message('not json');
    current().reply({ type: 'event', event: 'view:changed', payload: view });

    expect(seen).toEqual([view]);
  });

  it('stops delivering to a listener after it unsubscribes', () => {
    const { api, current } = setup();
    current().handlers.open();
    const listener = vi.fn();
    const unsubscribe = api.on('view:changed', listener);

    unsubscribe();
    current().reply({ type: 'event', event: 'view:changed', payload: view });

    expect(listener).not.toHaveBeenCalled();
  });

  it('reconnects with growing backoff capped at the maximum', async () => {
    const { sockets, current } = setup();
    current().handlers.close();

    await vi.advanceTimersByTimeAsync(99);
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(2);

    current().handlers.close();
    await vi.advanceTimersByTimeAsync(200);
    expect(sockets).toHaveLength(3);

    current().handlers.close();
    await vi.advanceTimersByTimeAsync(400);
    current().handlers.close();
    await vi.advanceTimersByTimeAsync(400);
    expect(sockets).toHaveLength(5);
  });

  it('after a reconnect, fetches the view again and hands it to the view listeners', async () => {
    const { api, current } = setup();
    current().handlers.open();
    const seen: KioskView[] = [];
    api.on('view:changed', (payload) => seen.push(payload));

    current().handlers.close();
    await vi.advanceTimersByTimeAsync(100);
    current().handlers.open();
    const resync = current().lastInvoke();
    expect(resync.command).toBe('view:get');

    current().reply({ type: 'result', id: resync.id, output: { ...view, screen: 'scanning' } });
    await vi.waitFor(() => expect(seen.map((v) => v.screen)).toEqual(['scanning']));
  });

  it('fetches the view on the first open too, so a page started before its host still shows it', async () => {
    const { api, current } = setup();
    const seen: KioskView[] = [];
    api.on('view:changed', (payload) => seen.push(payload));

    current().handlers.open();
    current().reply({ type: 'result', id: current().lastInvoke().id, output: view });

    await vi.waitFor(() => expect(seen).toEqual([view]));
  });

  it('keeps delivering to the other listeners when one throws', () => {
    const { api, current } = setup();
    current().handlers.open();
    const later = vi.fn();
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    api.on('view:changed', () => {
      throw new Error('broken screen');
    });
    api.on('view:changed', later);

    current().reply({ type: 'event', event: 'view:changed', payload: view });

    expect(later).toHaveBeenCalledWith(view);
  });

  it('does not reconnect after close and rejects later invokes', async () => {
    const { api, sockets, current } = setup();
    current().handlers.open();

    api.close();
    current().handlers.close();
    await vi.advanceTimersByTimeAsync(1000);

    expect(sockets).toHaveLength(1);
    expect(sockets[0]?.closed).toBe(true);
    await expect(api.invoke('view:get', {})).rejects.toMatchObject({ code: 'disconnected' });
  });
});

describe('hostSocketUrl', () => {
  it('builds the host socket URL from the page location, passing the token on unchanged', () => {
    const search = '?lang=en&token=a+b%2Fc&x=1';
    const url = hostSocketUrl({ protocol: 'http:', host: '127.0.0.1:8080', search });

    expect(url).toBe('ws://127.0.0.1:8080/api?token=a+b%2Fc');
  });

  it('uses a secure socket when the page itself is served over https', () => {
    const url = hostSocketUrl({ protocol: 'https:', host: 'kiosk.local', search: '?token=abc' });

    expect(url).toBe('wss://kiosk.local/api?token=abc');
  });
});
