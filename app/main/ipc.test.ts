import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  commands,
  events,
  ipcChannel,
  type CommandName,
  type EventName,
  type EventPayload,
  type IpcReply,
  type KioskService,
  type KioskView,
} from '../contract/api.js';
import { KioskError } from '../common/errors.js';
import { bindIpc } from './ipc.js';
import {
  FakeWebContents,
  ipcHandlers,
  ipcMain,
  resetFakeElectron,
  type FakeFrame,
} from './testing/fake-electron.js';
import { sampleView } from '../contract/testing/sample-view.js';

vi.mock('electron', () => import('./testing/fake-electron.js'));

const view = sampleView();

/** A core that records what it was asked and lets the test push events. */
class FakeKiosk implements KioskService {
  readonly handled: Array<{ command: CommandName; input: unknown }> = [];
  private readonly listeners = new Map<EventName, Set<(payload: unknown) => void>>();

  failure: Error | null = null;

  handle(command: CommandName, input: unknown): Promise<never> {
    this.handled.push({ command, input });
    if (this.failure) return Promise.reject(this.failure);
    return Promise.resolve((command === 'view:get' ? view : undefined) as never);
  }

  subscribe<E extends EventName>(
    event: E,
    listener: (payload: EventPayload<E>) => void,
  ): () => void {
    const forward = listener as (payload: unknown) => void;
    const forEvent = this.listeners.get(event) ?? new Set();
    forEvent.add(forward);
    this.listeners.set(event, forEvent);
    return () => forEvent.delete(forward);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners.get(event) ?? []) listener(payload);
  }

  emitView(payload: KioskView): void {
    this.emit('view:changed', payload);
  }

  get listenerCount(): number {
    return [...this.listeners.values()].reduce((sum, forEvent) => sum + forEvent.size, 0);
  }
}

function topFrame(url = 'app://kiosk/index.html'): FakeFrame {
  return { url, parent: null };
}

function invoke(
  command: CommandName,
  input: unknown,
  sender: FakeWebContents,
  senderFrame: FakeFrame | null = topFrame(),
): Promise<unknown> {
  return invokeForReply(command, input, sender, senderFrame).then((reply) => {
    if (reply.ok) return reply.output;
    throw new KioskError(reply.error.code, reply.error.message);
  });
}

/** What the page's preload receives: main's reply as it crosses IPC. */
function invokeForReply(
  command: CommandName,
  input: unknown,
  sender: FakeWebContents,
  senderFrame: FakeFrame | null = topFrame(),
): Promise<IpcReply<unknown>> {
  const handler = ipcHandlers.get(ipcChannel(command));
  if (!handler) throw new Error(`no handler for ${command}`);
  return Promise.resolve(handler({ sender, senderFrame }, input) as IpcReply<unknown>);
}

let kiosk: FakeKiosk;
let contents: FakeWebContents;

beforeEach(() => {
  resetFakeElectron();
  kiosk = new FakeKiosk();
  contents = new FakeWebContents();
  bindIpc(kiosk, contents as never);
});

describe('IPC commands', () => {
  it('registers one handler for every command in the contract', () => {
    expect([...ipcHandlers.keys()].sort()).toEqual(
      Object.keys(commands)
        .map((name) => ipcChannel(name as CommandName))
        .sort(),
    );
  });

  it('passes a valid command from the kiosk page to the core and returns its answer', async () => {
    await expect(invoke('view:get', {}, contents)).resolves.toEqual(view);
    await invoke('visitor:setLocale', { locale: 'en' }, contents);

    expect(kiosk.handled).toEqual([
      { command: 'view:get', input: {} },
      { command: 'visitor:setLocale', input: { locale: 'en' } },
    ]);
  });

  it('carries an error code in the reply, since Electron keeps only the message of an error', async () => {
    const reply = await invokeForReply('visitor:setLocale', { locale: 'fr' }, contents);

    expect(reply).toMatchObject({ ok: false, error: { code: 'bad_payload' } });
  });

  it('answers an unexpected core failure as internal, without passing its message on', async () => {
    kiosk.failure = new Error('SQLITE_CORRUPT at /var/lib/kiosk/secret-path.db');

    const reply = await invokeForReply('view:get', {}, contents);

    expect(reply).toEqual({
      ok: false,
      error: { code: 'internal', message: 'the kiosk could not do that' },
    });
  });

  it('rejects a bad payload with bad_payload naming the field, and the core never sees it', async () => {
    const tooLong = { text: 'x'.repeat(9000), bytesHex: '', charset: 'utf-8', source: 'camera' };

    const error = await invoke('scan:report', tooLong, contents).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(KioskError);
    expect((error as KioskError).code).toBe('bad_payload');
    expect((error as KioskError).message).toMatch(/scan:report: text:/);
    expect(kiosk.handled).toEqual([]);
  });

  it('rejects unknown fields, wrong types and a missing payload', async () => {
    const attempts: Array<[CommandName, unknown]> = [
      ['visitor:touch', { openGate: true }],
      ['visitor:setLocale', { locale: 'fr' }],
      ['photo:submit', undefined],
      ['scan:report', { text: 'ok', bytesHex: 'ZZ', charset: 'utf-8', source: 'camera' }],
    ];

    for (const [command, input] of attempts) {
      await expect(invoke(command, input, contents)).rejects.toMatchObject({ code: 'bad_payload' });
    }
    expect(kiosk.handled).toEqual([]);
  });

  it('refuses a call from a page on another origin', async () => {
    await expect(
      invoke('visitor:touch', {}, contents, topFrame('https://example.com/')),
    ).rejects.toMatchObject({
      code: 'unauthorised',
    });
    await expect(
      invoke('visitor:touch', {}, contents, topFrame('file:///index.html')),
    ).rejects.toMatchObject({
      code: 'unauthorised',
    });
    expect(kiosk.handled).toEqual([]);
  });

  it('refuses a call from a subframe, even one on the app origin', async () => {
    const subframe: FakeFrame = { url: 'app://kiosk/frame.html', parent: topFrame() };

    await expect(invoke('visitor:touch', {}, contents, subframe)).rejects.toMatchObject({
      code: 'unauthorised',
    });
    expect(kiosk.handled).toEqual([]);
  });

  it('refuses a call whose frame is gone or that comes from another window', async () => {
    await expect(invoke('visitor:touch', {}, contents, null)).rejects.toMatchObject({
      code: 'unauthorised',
    });
    await expect(invoke('visitor:touch', {}, new FakeWebContents())).rejects.toMatchObject({
      code: 'unauthorised',
    });
    expect(kiosk.handled).toEqual([]);
  });

  it('checks the sender before the payload, so a stranger learns nothing about the schema', async () => {
    await expect(
      invoke('visitor:setLocale', { locale: 'fr' }, contents, topFrame('https://example.com/')),
    ).rejects.toMatchObject({ code: 'unauthorised' });
  });
});

describe('IPC events', () => {
  it('forwards each core event to the kiosk page on the event channel', () => {
    const changed = { ...view, screen: 'scanning' as const };

    kiosk.emitView(changed);

    expect(contents.send).toHaveBeenCalledExactlyOnceWith(ipcChannel('view:changed'), changed);
  });

  it('forwards the guard’s call signalling on its own event channel', () => {
    const signal = {
      callId: 'call-1',
      signal: {
        kind: 'ice' as const,
        data: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' },
      },
    };

    kiosk.emit('call:signal', signal);

    expect(contents.send).toHaveBeenCalledExactlyOnceWith(ipcChannel('call:signal'), signal);
  });

  it('subscribes once to every event of the contract', () => {
    expect(kiosk.listenerCount).toBe(Object.keys(events).length);
  });

  it('sends nothing to a page that has been destroyed', () => {
    contents.destroyed = true;

    kiosk.emitView(view);

    expect(contents.send).not.toHaveBeenCalled();
  });

  it('removes every handler and subscription when unbound', () => {
    resetFakeElectron();
    const other = new FakeKiosk();
    const unbind = bindIpc(other, contents as never);

    unbind();
    other.emitView(view);

    expect(ipcHandlers.size).toBe(0);
    expect(ipcMain.removeHandler).toHaveBeenCalledTimes(Object.keys(commands).length);
    expect(other.listenerCount).toBe(0);
    expect(contents.send).not.toHaveBeenCalled();
  });
});
