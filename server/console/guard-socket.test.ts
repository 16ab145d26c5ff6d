import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServerToGuardMessage } from '../../app/contract/intercom-protocol.js';
import {
  GuardSocket,
  guardChannelUrl,
  parseMessage,
  type ConnectionState,
  type GuardSocketOptions,
  type SocketHandlers,
} from './guard-socket.js';

/** A scripted server end: the test opens, speaks and closes each socket the console opens. */
class FakeSockets {
  readonly opened: { url: string; handlers: SocketHandlers; sent: string[]; closed: boolean }[] =
    [];

  readonly open = (url: string, handlers: SocketHandlers) => {
    const socket = { url, handlers, sent: [] as string[], closed: false };
    this.opened.push(socket);
    return {
      send: (text: string) => socket.sent.push(text),
      close: () => {
        socket.closed = true;
      },
    };
  };

  get last() {
    const socket = this.opened.at(-1);
    if (!socket) throw new Error('no socket opened');
    return socket;
  }

  welcome(): void {
    this.last.handlers.open();
    this.say({ type: 'welcome', guard: 'li' });
  }

  say(message: ServerToGuardMessage): void {
    this.last.handlers.message(JSON.stringify(message));
  }

  sentMessages(): unknown[] {
    return this.last.sent.map((text) => JSON.parse(text) as unknown);
  }
}

let sockets: FakeSockets;
let states: ConnectionState[];
let messages: ServerToGuardMessage[];
let sessionEnded: number;

function makeSocket(overrides: Partial<GuardSocketOptions> = {}): GuardSocket {
  return new GuardSocket({
    url: 'ws://console.test/guard',
    onMessage: (message) => messages.push(message),
    onState: (state) => states.push(state),
    onSessionEnded: () => {
      sessionEnded += 1;
    },
    openSocket: sockets.open,
    random: () => 0,
    ...overrides,
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  sockets = new FakeSockets();
  states = [];
  messages = [];
  sessionEnded = 0;
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  vi.spyOn(console, 'debug').mockImplementation(() => undefined);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('GuardSocket', () => {
  it('is connected only once the server has welcomed the guard', () => {
    const socket = makeSocket();
    socket.start();
    sockets.last.handlers.open();

    expect(socket.state).toBe('connecting');
    sockets.say({ type: 'welcome', guard: 'li' });

    expect(states).toEqual(['connecting', 'connected']);
    expect(messages).toEqual([{ type: 'welcome', guard: 'li' }]);
  });

  it('passes protocol messages on and drops anything else', () => {
    makeSocket().start();
    sockets.welcome();

    sockets.last.handlers.message('not json');
    sockets.last.handlers.message(JSON.stringify({ type: 'open', callId: 'c1' }));
    sockets.last.handlers.message(new ArrayBuffer(4));
    sockets.say({ type: 'open-sent', callId: 'c1' });

    expect(messages.map((message) => message.type)).toEqual(['welcome', 'open-sent']);
  });

  it('sends only while connected', () => {
    const socket = makeSocket();
    socket.start();

    expect(socket.send({ type: 'answer', callId: 'c1' })).toBe(false);
    sockets.welcome();
    expect(socket.send({ type: 'answer', callId: 'c1' })).toBe(true);
    expect(sockets.sentMessages()).toEqual([{ type: 'answer', callId: 'c1' }]);
  });

  it('pings every 15 s and reconnects when two pings go unanswered', () => {
    makeSocket().start();
    sockets.welcome();

    vi.advanceTimersByTime(15_000);
    expect(sockets.sentMessages()).toEqual([{ type: 'ping', id: 1 }]);
    sockets.say({ type: 'pong', id: 1 });

    vi.advanceTimersByTime(45_000);
    expect(sockets.sentMessages()).toEqual([
      { type: 'ping', id: 1 },
      { type: 'ping', id: 2 },
      { type: 'ping', id: 3 },
    ]);
    expect(sockets.last.closed).toBe(true);
    expect(states.at(-1)).toBe('disconnected');

    vi.advanceTimersByTime(250);
    expect(sockets.opened).toHaveLength(2);
    expect(states.at(-1)).toBe('connecting');
  });

  it('does not pass pongs on to the console', () => {
    makeSocket().start();
    sockets.welcome();
    sockets.say({ type: 'pong', id: 7 });

    expect(messages.map((message) => message.type)).toEqual(['welcome']);
  });

  it('reconnects with growing delays, and starts over after a welcome', () => {
    makeSocket().start();
    const closeLast = () => sockets.last.handlers.close(1006, '');

    closeLast();
    vi.advanceTimersByTime(249);
    expect(sockets.opened).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets.opened).toHaveLength(2);

    closeLast();
    vi.advanceTimersByTime(499);
    expect(sockets.opened).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sockets.opened).toHaveLength(3);

    sockets.welcome();
    closeLast();
    vi.advanceTimersByTime(250);
    expect(sockets.opened).toHaveLength(4);
  });

  it('goes back to login when the server closes with the session-ended code', () => {
    makeSocket().start();
    sockets.welcome();
    sockets.last.handlers.close(4401, 'unauthorised: session ended');
    vi.advanceTimersByTime(60_000);

    expect(sessionEnded).toBe(1);
    expect(sockets.opened).toHaveLength(1);
    expect(states.at(-1)).toBe('disconnected');
  });

  it('asks whether the session lives when a socket fails before opening', async () => {
    const sessionAlive = vi.fn().mockResolvedValueOnce(true).mockResolvedValueOnce(false);
    makeSocket({ sessionAlive }).start();

    sockets.last.handlers.close(1006, '');
    await vi.waitFor(() => expect(sessionAlive).toHaveBeenCalledTimes(1));
    await vi.advanceTimersByTimeAsync(250);
    expect(sockets.opened).toHaveLength(2);

    sockets.last.handlers.close(1006, '');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sessionEnded).toBe(1);
    expect(sockets.opened).toHaveLength(2);
  });

  it('keeps retrying when the session check itself fails (server down)', async () => {
    const sessionAlive = vi.fn().mockRejectedValue(new Error('fetch failed'));
    makeSocket({ sessionAlive }).start();

    sockets.last.handlers.close(1006, '');
    await vi.advanceTimersByTimeAsync(250);

    expect(sockets.opened).toHaveLength(2);
    expect(sessionEnded).toBe(0);
  });

  it('stops for good, ignoring the closing socket and pending retries', () => {
    const socket = makeSocket();
    socket.start();
    sockets.welcome();
    socket.stop();
    sockets.last.handlers.close(1000, 'console closed');
    vi.advanceTimersByTime(60_000);

    expect(sockets.last.closed).toBe(true);
    expect(sockets.opened).toHaveLength(1);
    expect(states).toEqual(['connecting', 'connected', 'disconnected']);
  });

  it('reconnects at once when asked during the wait', () => {
    const socket = makeSocket({ random: () => 0.999 });
    socket.start();
    sockets.last.handlers.close(1006, '');
    socket.reconnectNow();

    expect(sockets.opened).toHaveLength(2);
  });
});

describe('guardChannelUrl', () => {
  it('uses ws: beside an http page and wss: beside an https page, under any path', () => {
    expect(guardChannelUrl('http://127.0.0.1:8780/')).toBe('ws://127.0.0.1:8780/guard');
    expect(guardChannelUrl('https://site.example/intercom/#/kiosks')).toBe(
      'wss://site.example/intercom/guard',
    );
  });
});

describe('parseMessage', () => {
  it('returns a checked message or null', () => {
    expect(parseMessage('{"type":"open-sent","callId":"c1"}')).toEqual({
      type: 'open-sent',
      callId: 'c1',
    });
    expect(parseMessage('{"type":"open-sent"}')).toBeNull();
  });
});
