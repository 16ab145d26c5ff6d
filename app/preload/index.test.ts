import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  commands,
  events,
  ipcChannel,
  type CommandName,
  type EventName,
  type KioskApi,
  type KioskView,
} from '../contract/api.js';

type Listener = (event: unknown, payload: unknown) => void;

const bridge = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  listeners: new Map<string, Set<Listener>>(),
  invoke: vi.fn((_channel: string, _input: unknown): Promise<unknown> =>
    Promise.resolve({ ok: true, output: 'answer' }),
  ),
}));

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, api: unknown) => bridge.exposed.set(key, api),
  },
  ipcRenderer: {
    invoke: bridge.invoke,
    on: (channel: string, listener: Listener) => {
      const set = bridge.listeners.get(channel) ?? new Set<Listener>();
      set.add(listener);
      bridge.listeners.set(channel, set);
    },
    removeListener: (channel: string, listener: Listener) =>
      bridge.listeners.get(channel)?.delete(listener),
  },
}));

let kiosk: KioskApi;

beforeAll(async () => {
  await import('./index.js');
  kiosk = bridge.exposed.get('kiosk') as KioskApi;
});

beforeEach(() => bridge.invoke.mockClear());

function deliver(channel: string, payload: unknown): void {
  for (const listener of bridge.listeners.get(channel) ?? [])
    listener({ sender: 'ipc internals' }, payload);
}

describe('the preload bridge', () => {
  it('exposes only invoke and on as window.kiosk, never ipcRenderer', () => {
    expect([...bridge.exposed.keys()]).toEqual(['kiosk']);
    expect(Object.keys(kiosk).sort()).toEqual(['invoke', 'on']);
  });

  it('turns an error reply into a rejection that keeps the code, in the message too', async () => {
    bridge.invoke.mockResolvedValueOnce({
      ok: false,
      error: { code: 'bad_payload', message: 'locale: invalid option' },
    });

    await expect(kiosk.invoke('visitor:setLocale', { locale: 'en' })).rejects.toMatchObject({
      code: 'bad_payload',
      message: 'bad_payload: locale: invalid option',
    });
  });

  it('sends a contract command on its own channel and returns main’s answer', async () => {
    const answer = await kiosk.invoke('visitor:setLocale', { locale: 'en' });

    expect(bridge.invoke).toHaveBeenCalledWith('kiosk:visitor:setLocale', { locale: 'en' });
    expect(answer).toBe('answer');
  });

  it('refuses a channel that is not in the contract without touching IPC', async () => {
    const stray = kiosk as unknown as { invoke(command: string, input: unknown): Promise<unknown> };

    await expect(stray.invoke('relay:pulse', {})).rejects.toThrow(/unknown command: relay:pulse/);
    await expect(stray.invoke('constructor', {})).rejects.toThrow(/unknown command/);
    expect(bridge.invoke).not.toHaveBeenCalled();
  });

  it('delivers event payloads to the page without the IPC event object', () => {
    const seen: unknown[] = [];
    const view = { screen: 'idle' } as KioskView;
    kiosk.on('view:changed', (payload) => seen.push(payload));

    deliver('kiosk:view:changed', view);

    expect(seen).toEqual([view]);
  });

  it('delivers the guard’s call signalling on its own event', () => {
    const seen: unknown[] = [];
    const signal = { callId: 'call-1', signal: { kind: 'offer', data: { type: 'offer' } } };
    kiosk.on('call:signal', (payload) => seen.push(payload));

    deliver('kiosk:view:changed', { screen: 'idle' });
    deliver('kiosk:call:signal', signal);

    expect(seen).toEqual([signal]);
  });

  it('stops delivering once the page unsubscribes', () => {
    const seen: unknown[] = [];
    const unsubscribe = kiosk.on('view:changed', (payload) => seen.push(payload));

    unsubscribe();
    deliver('kiosk:view:changed', { screen: 'scanning' });

    expect(seen).toEqual([]);
  });

  it('uses the contract’s channel for every command and event', async () => {
    const { channelOf } = await import('./index.js');

    for (const name of [...Object.keys(commands), ...Object.keys(events)] as Array<
      CommandName | EventName
    >) {
      expect(channelOf(name)).toBe(ipcChannel(name));
    }
  });

  it('can invoke every command in the contract', async () => {
    for (const name of Object.keys(commands) as CommandName[]) {
      await kiosk.invoke(name, {});
    }

    expect(bridge.invoke.mock.calls.map(([channel]) => channel)).toEqual(
      Object.keys(commands).map((name) => ipcChannel(name as CommandName)),
    );
  });

  it('refuses to listen on a channel that is not a contract event', () => {
    const stray = kiosk as unknown as { on(event: string, listener: () => void): () => void };

    expect(() => stray.on('kiosk:internal', () => undefined)).toThrow(/unknown event/);
    expect(bridge.listeners.has('kiosk:kiosk:internal')).toBe(false);
  });
});
