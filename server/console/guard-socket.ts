/**
 * The console's control connection to the intercom server: a WebSocket to `/guard` beside the
 * page, every message checked against the protocol, an application ping every 15 s, and
 * reconnection with jittered backoff. The server authenticates the upgrade with the session
 * cookie; when the session ends (close code 4401, or a refused upgrade while the session is gone)
 * the console is told to return to the login page instead of knocking forever.
 */
import {
  ServerToGuardMessageSchema,
  guardChannelPath,
  guardCloseCodes,
  type GuardMessage,
  type ServerToGuardMessage,
} from '../../app/contract/intercom-protocol.js';
import { reconnectDelay } from './backoff.js';
import { moduleLogger } from '../../app/web/log.js';
import { readSocketMessage } from '../../app/web/socket-message.js';

const log = moduleLogger('guard-socket');

/** What the connection indicator shows. */
export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

/** What a socket reports; the default factory wires these to a browser WebSocket. */
export interface SocketHandlers {
  open(): void;
  message(data: unknown): void;
  close(code: number, reason: string): void;
}

/** An open(ing) socket as the console uses it. */
export interface SocketHandle {
  send(text: string): void;
  close(code: number, reason: string): void;
}

/** Opens a socket to `url`; tests pass a fake. */
export type SocketFactory = (url: string, handlers: SocketHandlers) => SocketHandle;

/** Where the console's socket and session live, and who hears about them. */
export interface GuardSocketOptions {
  url: string;
  onMessage(message: ServerToGuardMessage): void;
  onState(state: ConnectionState): void;
  /** The session is over: the console shows the login page. */
  onSessionEnded(): void;
  /**
   * Asked after a connection closed before it opened. The server refuses the upgrade of an ended
   * session with a plain 401, which a browser reports only as a failed socket.
   */
  sessionAlive?: () => Promise<boolean>;
  openSocket?: SocketFactory;
  random?: () => number;
  pingIntervalMs?: number;
}

/** The application ping keeps proxies from closing an idle socket and finds a dead one. */
export const pingIntervalMs = 15_000;

// Two pings without a pong: the socket is dead even if the browser has not noticed.
const maxUnansweredPings = 2;

/** The guard channel's URL for a page at `pageUrl`, ws: or wss: as the page was loaded. */
export function guardChannelUrl(pageUrl: string): string {
  const url = new URL(guardChannelPath.slice(1), pageUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.hash = '';
  url.search = '';

  return url.toString();
}

/** The default factory: a browser WebSocket. */
export const browserSocket: SocketFactory = (url, handlers) => {
  const socket = new WebSocket(url);
  socket.onopen = () => handlers.open();
  socket.onmessage = (event: MessageEvent) => handlers.message(event.data);
  socket.onclose = (event: CloseEvent) => handlers.close(event.code, event.reason);

  return {
    send: (text) => socket.send(text),
    close: (code, reason) => socket.close(code, reason),
  };
};

/** One console's control connection; `start` connects and keeps it up until `stop`. */
export class GuardSocket {
  readonly #options: GuardSocketOptions;
  readonly #openSocket: SocketFactory;
  #stopped = true;
  #state: ConnectionState = 'disconnected';
  /** Identifies the live connection, so events of an abandoned socket are ignored. */
  #current: { handle: SocketHandle | null; opened: boolean } | null = null;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #pingTimer: ReturnType<typeof setInterval> | null = null;
  #nextPingId = 1;
  #unansweredPings = 0;
  #lastPingAt = 0;

  constructor(options: GuardSocketOptions) {
    this.#options = options;
    this.#openSocket = options.openSocket ?? browserSocket;
  }

  /** The connection as the indicator shows it. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Connects, and reconnects after every loss until `stop`. */
  start(): void {
    if (!this.#stopped) return;

    this.#stopped = false;
    this.#connect();
  }

  /** Closes the connection for good (logout, page left). */
  stop(): void {
    this.#stopped = true;
    this.#clearTimers();
    this.#abandon(1000, 'console closed');
    this.#setState('disconnected');
  }

  /** Sends when connected; false when the message could not go (the caller tells the guard). */
  send(message: GuardMessage): boolean {
    const handle = this.#current?.handle;
    if (this.#state !== 'connected' || !handle) return false;

    handle.send(JSON.stringify(message));
    return true;
  }

  /** Skips the wait before the next attempt, e.g. when the browser reports the network back. */
  reconnectNow(): void {
    if (this.#stopped || this.#retryTimer === null) return;

    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#connect();
  }

  #connect(): void {
    this.#setState('connecting');

    const connection: { handle: SocketHandle | null; opened: boolean } = {
      handle: null,
      opened: false,
    };
    this.#current = connection;
    connection.handle = this.#openSocket(this.#options.url, {
      open: () => {
        connection.opened = true;
      },
      message: (data) => {
        if (this.#current === connection) this.#receive(data);
      },
      close: (code, reason) => {
        if (this.#current === connection) this.#closed(connection.opened, code, reason);
      },
    });
  }

  #receive(data: unknown): void {
    const message = parseMessage(data);
    if (!message) return;

    if (message.type === 'welcome') this.#welcomed();
    if (message.type === 'pong') return this.#ponged(message.id);

    this.#options.onMessage(message);
  }

  #welcomed(): void {
    this.#attempt = 0;
    this.#unansweredPings = 0;
    this.#setState('connected');

    if (this.#pingTimer !== null) clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(
      () => this.#ping(),
      this.#options.pingIntervalMs ?? pingIntervalMs,
    );
  }

  #ping(): void {
    if (this.#unansweredPings >= maxUnansweredPings) {
      log.warn('ping: no answer to two pings, reconnecting');
      return this.#lost();
    }

    this.#unansweredPings += 1;
    this.#lastPingAt = Date.now();
    this.send({ type: 'ping', id: this.#nextPingId++ });
  }

  #ponged(id: number): void {
    this.#unansweredPings = 0;
    log.debug('pong: received', { id, roundTripMs: Date.now() - this.#lastPingAt });
  }

  /** Gives up on a socket that went silent without closing. */
  #lost(): void {
    this.#abandon(4000, 'no answer to pings');
    this.#closed(true, 1006, 'no answer to pings');
  }

  #closed(opened: boolean, code: number, reason: string): void {
    this.#current = null;
    this.#clearTimers();
    if (this.#stopped) return;

    log.info('close: connection closed', { code, reason });
    this.#setState('disconnected');
    if (code === guardCloseCodes.sessionEnded) return this.#sessionEnded();
    if (opened || !this.#options.sessionAlive) return this.#scheduleRetry();

    this.#options.sessionAlive().then(
      (alive) => (alive ? this.#scheduleRetry() : this.#sessionEnded()),
      () => this.#scheduleRetry(),
    );
  }

  #scheduleRetry(): void {
    if (this.#stopped) return;

    const delay = reconnectDelay(this.#attempt++, this.#options.random);
    log.info('reconnect: scheduled', { attempt: this.#attempt, delayMs: delay });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#connect();
    }, delay);
  }

  #sessionEnded(): void {
    if (this.#stopped) return;

    log.info('session: ended, back to login');
    this.#stopped = true;
    this.#options.onSessionEnded();
  }

  #abandon(code: number, reason: string): void {
    const handle = this.#current?.handle;
    this.#current = null;
    try {
      handle?.close(code, reason);
    } catch (error) {
      log.debug('close: socket refused to close', { error: String(error) });
    }
  }

  #clearTimers(): void {
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer);
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#pingTimer = null;
    this.#retryTimer = null;
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;

    this.#state = state;
    this.#options.onState(state);
  }
}

/** A server message checked against the protocol, or null (logged) when it is not one. */
export function parseMessage(data: unknown): ServerToGuardMessage | null {
  return readSocketMessage(ServerToGuardMessageSchema, data, log);
}
