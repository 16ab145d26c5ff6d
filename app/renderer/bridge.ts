/**
 * The page's way to the core. In Electron the preload exposes `window.kiosk`; in the browser host
 * the same KioskApi is carried over a WebSocket. Nothing the socket delivers is trusted: every
 * message is checked against the contract's schemas before anyone sees it.
 */
import {
  commands,
  events,
  type CommandName,
  type CommandInput,
  type CommandOutput,
  type EventName,
  type EventPayload,
  type KioskApi,
} from '../contract/api.js';
import { ServerMessageSchema, wsPath, type ServerMessage } from '../contract/ws-protocol.js';
import { KioskError } from '../common/errors.js';
import { readSocketMessage } from '../web/socket-message.js';
import { moduleLogger } from './log.js';

const log = moduleLogger('bridge');

/** What the bridge needs from an open socket: tests pass a fake, the page a real WebSocket. */
export interface SocketHandle {
  send(data: string): void;
  close(): void;
}

/** Callbacks a socket factory wires to its socket's open, message and close events. */
export interface SocketHandlers {
  open(): void;
  message(data: unknown): void;
  close(): void;
}

/** Opens a socket to `url` and reports its events through `handlers`. */
export type SocketFactory = (url: string, handlers: SocketHandlers) => SocketHandle;

/** Tuning for the WebSocket bridge; the defaults suit a page talking to its own loopback host. */
export interface WebSocketBridgeOptions {
  url: string;
  connect?: SocketFactory;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  invokeTimeoutMs?: number;
}

interface PendingInvoke {
  command: CommandName;
  message: string;
  sent: boolean;
  timer: ReturnType<typeof setTimeout>;
  resolve(output: unknown): void;
  reject(error: KioskError): void;
}

type AnyListener = (payload: unknown) => void;

/** A KioskApi over the browser host's WebSocket that reconnects by itself. */
export class WebSocketKioskApi implements KioskApi {
  readonly #url: string;
  readonly #connectSocket: SocketFactory;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #invokeTimeoutMs: number;
  readonly #pending = new Map<number, PendingInvoke>();
  readonly #listeners = new Map<EventName, Set<AnyListener>>();
  #socket: SocketHandle | null = null;
  #open = false;
  #everOpened = false;
  #closed = false;
  #failedAttempts = 0;
  #nextId = 1;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: WebSocketBridgeOptions) {
    this.#url = options.url;
    this.#connectSocket = options.connect ?? connectBrowserSocket;
    this.#initialBackoffMs = options.initialBackoffMs ?? 250;
    this.#maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.#invokeTimeoutMs = options.invokeTimeoutMs ?? 15_000;
    this.#connect();
  }

  /** Sends a command; rejects with a KioskError if the socket drops before the answer. */
  invoke<C extends CommandName>(command: C, input: CommandInput<C>): Promise<CommandOutput<C>> {
    if (this.#closed) return Promise.reject(new KioskError('disconnected', 'The bridge is closed'));

    const checked = commands[command].input.safeParse(input);
    if (!checked.success) {
      return Promise.reject(new KioskError('bad_payload', `Bad input for ${command}`));
    }

    return new Promise<CommandOutput<C>>((resolve, reject) => {
      this.#enqueue(command, checked.data, resolve as (output: unknown) => void, reject);
    });
  }

  /** Listens for a core event; listeners survive reconnects. Returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    const listeners = this.#listeners.get(event) ?? new Set<AnyListener>();
    this.#listeners.set(event, listeners);
    listeners.add(listener as AnyListener);

    return () => listeners.delete(listener as AnyListener);
  }

  /** Closes the socket for good and rejects whatever is still waiting. */
  close(): void {
    this.#closed = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);

    this.#socket?.close();
    this.#rejectAll('The bridge was closed');
  }

  #enqueue(
    command: CommandName,
    input: unknown,
    resolve: (output: unknown) => void,
    reject: (error: KioskError) => void,
  ): void {
    const id = this.#nextId++;
    const message = JSON.stringify({ type: 'invoke', id, command, input });
    const timer = setTimeout(() => {
      this.#take(id)?.reject(new KioskError('timeout', `No answer to ${command}`));
    }, this.#invokeTimeoutMs);

    this.#pending.set(id, { command, message, sent: false, timer, resolve, reject });
    if (this.#open) this.#flush();
  }

  #connect(): void {
    this.#socket = this.#connectSocket(this.#url, {
      open: () => this.#handleOpen(),
      message: (data) => this.#handleMessage(data),
      close: () => this.#handleClose(),
    });
  }

  #handleOpen(): void {
    log.info('connect: open', { reconnected: this.#everOpened });
    this.#open = true;
    this.#everOpened = true;
    this.#failedAttempts = 0;

    this.#flush();
    this.#resync();
  }

  #handleClose(): void {
    if (this.#open) log.warn('connect: lost');
    this.#open = false;
    this.#socket = null;

    this.#rejectAll('The connection to the kiosk was lost');
    if (!this.#closed) this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const delay = Math.min(this.#maxBackoffMs, this.#initialBackoffMs * 2 ** this.#failedAttempts);
    this.#failedAttempts += 1;

    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#connect();
    }, delay);
  }

  // Events pushed while the socket was down are gone, and a page whose first view:get failed
  // would otherwise wait for the next change: fetching the view on every open fixes both.
  #resync(): void {
    if (!this.#listeners.get('view:changed')?.size) return;

    this.invoke('view:get', {}).then(
      (view) => this.#emit('view:changed', view),
      (error: unknown) => log.warn('resync: failed', { code: codeOf(error) }),
    );
  }

  #flush(): void {
    for (const pending of this.#pending.values()) {
      if (pending.sent) continue;

      this.#socket?.send(pending.message);
      pending.sent = true;
    }
  }

  #handleMessage(data: unknown): void {
    const message = readSocketMessage(ServerMessageSchema, data, log);
    if (!message) return;

    switch (message.type) {
      case 'result':
        return this.#handleResult(message.id, message.output);
      case 'error':
        return this.#handleError(message);
      case 'event':
        return this.#handleEvent(message.event, message.payload);
    }
  }

  #handleResult(id: number, output: unknown): void {
    const pending = this.#take(id);
    if (!pending) return log.warn('result: unknown id', { id });

    const checked = commands[pending.command].output.safeParse(output);
    if (checked.success) return pending.resolve(checked.data);

    log.warn('result: bad output', { command: pending.command });
    pending.reject(new KioskError('bad_payload', `Bad output for ${pending.command}`));
  }

  #handleError(message: Extract<ServerMessage, { type: 'error' }>): void {
    const pending = message.id === null ? undefined : this.#take(message.id);
    log.warn('error: from host', { id: message.id, code: message.error.code });

    pending?.reject(new KioskError(message.error.code, message.error.message));
  }

  #handleEvent(event: string, payload: unknown): void {
    if (!Object.hasOwn(events, event)) return log.warn('event: unknown', { event });

    const name = event as EventName;
    const checked = events[name].safeParse(payload);
    if (!checked.success) return log.warn('event: bad payload', { event });

    this.#emit(name, checked.data);
  }

  #emit(event: EventName, payload: unknown): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        // One broken listener must not keep the others from seeing the view.
        log.error('event: listener threw', { event, error: String(error) });
      }
    }
  }

  #take(id: number): PendingInvoke | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;

    clearTimeout(pending.timer);
    this.#pending.delete(id);
    return pending;
  }

  #rejectAll(reason: string): void {
    for (const id of [...this.#pending.keys()]) {
      this.#take(id)?.reject(new KioskError('disconnected', reason));
    }
  }
}

function connectBrowserSocket(url: string, handlers: SocketHandlers): SocketHandle {
  const socket = new WebSocket(url);
  socket.onopen = () => handlers.open();
  socket.onmessage = (event: MessageEvent) => handlers.message(event.data);
  // Browsers always follow an error with a close, so close alone drives the reconnect.
  socket.onclose = () => handlers.close();

  return { send: (data) => socket.send(data), close: () => socket.close() };
}

function codeOf(error: unknown): string {
  return error instanceof KioskError ? error.code : 'internal';
}

/** The browser host's socket URL for a page at `location`, carrying the page's `token`. */
export function hostSocketUrl(location: Pick<Location, 'protocol' | 'host' | 'search'>): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // Passed on still encoded, so the host decodes the socket's token exactly as it would the page's.
  const token = /[?&]token=([^&#]*)/.exec(location.search)?.[1] ?? '';
  if (!token) log.warn('connect: the page URL has no token; the host will refuse the socket');

  return `${scheme}//${location.host}${wsPath}?token=${token}`;
}

let shared: KioskApi | null = null;

/** The page's KioskApi: Electron's `window.kiosk` when present, else the host's WebSocket. */
export function getKioskApi(): KioskApi {
  if (shared) return shared;

  const exposed = window.kiosk;
  shared = exposed ?? new WebSocketKioskApi({ url: hostSocketUrl(window.location) });
  log.info('connect: transport chosen', { transport: exposed ? 'preload' : 'websocket' });
  return shared;
}
