/**
 * The kiosk's control connection to the intercom server. The main process holds it (the renderer
 * only carries media): it says hello with the kiosk's id and secret, keeps an application-level
 * ping going to measure the round trip and to notice a silent server, and reconnects by itself,
 * forever, until closed. Nothing sent before a reconnect is replayed after it: a message that
 * cannot go now is refused, never queued, so a stale command can never reach the server late.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import { KioskError } from '../common/errors.js';
import {
  KioskMessageSchema,
  ServerToKioskMessageSchema,
  kioskChannelPath,
  kioskCloseCodes,
  protocolMismatch,
  type KioskMessage,
  type ServerToKioskMessage,
} from '../contract/intercom-protocol.js';
import { moduleLogger } from './log.js';
import { packageVersion } from './package-version.js';

const log = moduleLogger('intercom');

/**
 * `connecting` until the first welcome; `disconnected` while retrying after a drop; `refused`
 * while the server rejects our credentials; `closed` after close().
 */
export type IntercomState =
  'idle' | 'connecting' | 'connected' | 'disconnected' | 'refused' | 'closed';

/** What the client is built from. */
export interface IntercomClientOptions {
  /** ws:// or wss:// address; a bare host gets the kiosk channel path appended. */
  url: string;
  kioskId: string;
  secret: string;
  /** The kiosk software's version, shown on the server's kiosks page; package.json's by default. */
  version?: string;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** How long the handshake plus hello may take before the attempt is abandoned. */
  helloTimeoutMs?: number;
  /** Overrides the ping interval the server suggests in its welcome. */
  pingIntervalMs?: number;
  /** Source of randomness for the jitter, in [0, 1). */
  random?: () => number;
}

/** Diagnostics of the connection, for the service screen and support. */
export interface IntercomDiagnostics {
  state: IntercomState;
  /** Connection attempts since start(). */
  attempts: number;
  /** Last measured ping round trip, undefined until one came back on this connection. */
  roundTripMs: number | undefined;
  connectedSince: number | undefined;
}

/** Events the client emits. */
export interface IntercomClientEvents {
  state: [IntercomState];
  message: [ServerToKioskMessage];
  roundTrip: [number];
}

/** A guard's open command as the server relays it. */
export type OpenCommand = Extract<ServerToKioskMessage, { type: 'open' }>;

/** Handler for a guard's open command; the kiosk binds it to the remote opener's `open()`. */
export type OpenCommandHandler = (command: OpenCommand) => void;

// Close codes after which retrying soon cannot help: the same credentials would fail again.
const refusalCodes = new Set<number>([kioskCloseCodes.refused, kioskCloseCodes.revoked]);

/** Why an attempt failed before a welcome: `cause` tells one failure from the next. */
interface ConnectFailure {
  cause: string;
  message: string;
}

interface Connection {
  socket: WebSocket;
  /** The first thing that went wrong with this attempt, if anything did. */
  failure: ConnectFailure | undefined;
  welcomed: boolean;
  helloTimer: NodeJS.Timeout | undefined;
  pingTimer: NodeJS.Timeout | undefined;
  pendingPing: { id: number; sentAt: number } | undefined;
  lastPongAt: number;
}

/** Holds the authenticated control connection to the intercom server and keeps it up. */
export class IntercomClient extends EventEmitter<IntercomClientEvents> {
  readonly #options: Required<Omit<IntercomClientOptions, 'pingIntervalMs'>> &
    Pick<IntercomClientOptions, 'pingIntervalMs'>;
  readonly #url: string;
  /** The cause last logged; a retry failing the same way is not logged again. */
  #loggedCause: string | undefined;
  #state: IntercomState = 'idle';
  #connection: Connection | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #attempts = 0;
  #nextPingId = 0;
  #roundTripMs: number | undefined;
  #connectedSince: number | undefined;
  #openHandler: OpenCommandHandler | undefined;

  constructor(options: IntercomClientOptions) {
    super();
    const reconnectMinMs = options.reconnectMinMs ?? 500;
    this.#options = {
      ...options,
      version: options.version ?? packageVersion(),
      reconnectMinMs,
      reconnectMaxMs: Math.max(reconnectMinMs, options.reconnectMaxMs ?? 10_000),
      helloTimeoutMs: options.helloTimeoutMs ?? 10_000,
      random: options.random ?? Math.random,
    };
    this.#url = channelUrl(options.url);
  }

  /** The current state. */
  get state(): IntercomState {
    return this.#state;
  }

  /** Starts connecting; the client then keeps the connection up by itself until close(). */
  start(): void {
    if (this.#state !== 'idle') return;

    this.#setState('connecting');
    this.#connect();
  }

  /** Stops for good: closes the connection and cancels any pending reconnect. */
  close(): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#setState('closed');

    const connection = this.#connection;
    if (!connection) return Promise.resolve();

    this.#drop(connection);
    const socket = connection.socket;
    if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();

    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    else socket.close(1000, 'kiosk closing');
    // A server that ignores the closing handshake must not hold the kiosk's shutdown for 30 s.
    const force = setTimeout(() => socket.terminate(), 1000);
    return closed.finally(() => clearTimeout(force));
  }

  /** Sends a message now; throws `disconnected` when not connected, `bad_payload` when invalid. */
  send(message: KioskMessage): void {
    const connection = this.#connection;
    if (this.#state !== 'connected' || !connection?.welcomed) {
      throw new KioskError('disconnected', 'the intercom server is not connected');
    }

    const result = KioskMessageSchema.safeParse(message);
    if (!result.success) {
      throw new KioskError('bad_payload', protocolMismatch(result.error));
    }
    connection.socket.send(JSON.stringify(result.data));
  }

  /** Calls `listener` with each valid message from the server; returns how to stop. */
  onMessage(listener: (message: ServerToKioskMessage) => void): () => void {
    this.on('message', listener);
    return () => this.off('message', listener);
  }

  /**
   * Routes the server's open commands to `handler` alone (not to onMessage listeners), so exactly
   * one place, the remote opener's checks, decides whether the gate moves.
   */
  onOpenCommand(handler: OpenCommandHandler): void {
    this.#openHandler = handler;
  }

  /** What the connection looks like now. */
  diagnostics(): IntercomDiagnostics {
    return {
      state: this.#state,
      attempts: this.#attempts,
      roundTripMs: this.#roundTripMs,
      connectedSince: this.#connectedSince,
    };
  }

  #connect(): void {
    this.#attempts += 1;
    log.debug({ attempt: this.#attempts }, 'connect: attempt');

    const socket = new WebSocket(this.#url, {
      handshakeTimeout: this.#options.helloTimeoutMs,
      maxPayload: 256 * 1024,
    });
    const connection: Connection = {
      socket,
      failure: undefined,
      welcomed: false,
      helloTimer: undefined,
      pingTimer: undefined,
      pendingPing: undefined,
      lastPongAt: 0,
    };
    this.#connection = connection;

    socket.on('open', () => this.#opened(connection));
    socket.on('message', (data, isBinary) => this.#receiveSafely(connection, data, isBinary));
    socket.on('close', (code, reason) => this.#closed(connection, code, reason.toString()));
    // Every error is followed by a close, which schedules the retry.
    socket.on('error', (error) => this.#errored(connection, error));
    socket.on('unexpected-response', (_request, response) =>
      this.#upgradeRefused(connection, response),
    );
  }

  #errored(connection: Connection, error: NodeJS.ErrnoException): void {
    log.debug({ reason: error.message, code: error.code }, 'socket: error');
    connection.failure ??= socketFailure(error, new URL(this.#url));
  }

  // Something other than the kiosk channel answered: the URL, not the network, is wrong.
  #upgradeRefused(connection: Connection, response: IncomingMessage): void {
    connection.failure ??= upgradeFailure(response.statusCode ?? 0, new URL(this.#url));
    connection.socket.terminate();
  }

  // Logged once per cause, so an outage of hours writes one line, and a new cause one more.
  #reportFailure(failure: ConnectFailure | undefined): void {
    if (!failure || failure.cause === this.#loggedCause) return;

    this.#loggedCause = failure.cause;
    log.warn({ cause: failure.cause }, `connect: ${failure.message}`);
  }

  #opened(connection: Connection): void {
    connection.helloTimer = setTimeout(() => {
      log.warn({ timeoutMs: this.#options.helloTimeoutMs }, 'hello: no welcome in time');
      connection.socket.terminate();
    }, this.#options.helloTimeoutMs);

    const { kioskId, secret, version } = this.#options;
    const hello: KioskMessage = { type: 'hello', kioskId, secret, version };
    connection.socket.send(JSON.stringify(hello));
  }

  // A bug in a listener must cost one message, not the connection or the kiosk's main process.
  #receiveSafely(connection: Connection, data: RawData, isBinary: boolean): void {
    try {
      this.#receive(connection, data, isBinary);
    } catch (error) {
      log.error({ err: error }, 'message: handling failed');
    }
  }

  #receive(connection: Connection, data: RawData, isBinary: boolean): void {
    // A late frame from a replaced or closing socket must not revive a dead connection.
    if (connection !== this.#connection || this.#state === 'closed') return;

    const message = parseServerMessage(data, isBinary);
    if (message instanceof KioskError) {
      log.warn({ reason: message.message }, 'message: dropped');
      return;
    }

    this.#dispatch(connection, message);
  }

  #dispatch(connection: Connection, message: ServerToKioskMessage): void {
    if (message.type === 'welcome') return this.#welcomed(connection, message.heartbeatSeconds);
    if (!connection.welcomed) {
      // Before the welcome only a refusal's error is expected; its close is what gets logged, once.
      if (message.type === 'error') log.debug({ code: message.error.code }, 'hello: server error');
      return;
    }
    if (message.type === 'pong') return this.#ponged(connection, message.id);
    if (message.type === 'error') log.warn({ code: message.error.code }, 'message: server error');

    if (message.type === 'open') return this.#routeOpen(message);

    this.emit('message', message);
  }

  #routeOpen(command: OpenCommand): void {
    // Without the remote opener bound, an open command has nowhere safe to go: it opens nothing.
    if (!this.#openHandler) {
      log.warn({ callId: command.callId }, 'open: no handler bound, dropped');
      return;
    }

    this.#openHandler(command);
  }

  #welcomed(connection: Connection, heartbeatSeconds: number): void {
    if (connection.welcomed) return;

    clearTimeout(connection.helloTimer);
    connection.welcomed = true;
    this.#loggedCause = undefined;
    connection.lastPongAt = Date.now();
    this.#failures = 0;
    this.#roundTripMs = undefined;
    this.#connectedSince = Date.now();

    const intervalMs = this.#options.pingIntervalMs ?? heartbeatSeconds * 1000;
    connection.pingTimer = setInterval(() => this.#beat(connection, intervalMs), intervalMs);
    this.#setState('connected');
    this.#beat(connection, intervalMs);
  }

  // A server that stops answering (power, a dead NAT entry) is noticed here, not hours later by TCP.
  #beat(connection: Connection, intervalMs: number): void {
    const silentMs = Date.now() - connection.lastPongAt;
    if (connection.pendingPing && silentMs > 2 * intervalMs) {
      log.warn({ silentMs }, 'heartbeat: server silent');
      connection.socket.terminate();
      return;
    }
    if (connection.pendingPing) return;

    const id = this.#nextPingId++;
    connection.pendingPing = { id, sentAt: performance.now() };
    connection.socket.send(JSON.stringify({ type: 'ping', id } satisfies KioskMessage));
  }

  #ponged(connection: Connection, id: number): void {
    const pending = connection.pendingPing;
    if (!pending || pending.id !== id) {
      log.debug({ id }, 'pong: not the one awaited');
      return;
    }

    connection.pendingPing = undefined;
    connection.lastPongAt = Date.now();
    this.#roundTripMs = performance.now() - pending.sentAt;
    this.emit('roundTrip', this.#roundTripMs);
  }

  #closed(connection: Connection, code: number, reason: string): void {
    this.#drop(connection);
    if (connection !== this.#connection || this.#state === 'closed') return;

    this.#connection = undefined;
    this.#connectedSince = undefined;
    this.#roundTripMs = undefined;
    this.#reportFailure(connection.failure);
    this.#scheduleRetry(code, reason);
  }

  #drop(connection: Connection): void {
    clearTimeout(connection.helloTimer);
    clearInterval(connection.pingTimer);
    connection.pendingPing = undefined;
  }

  #scheduleRetry(code: number, reason: string): void {
    this.#failures += 1;
    const refused = refusalCodes.has(code);
    // Two kiosks sharing an id would otherwise take the connection from each other in a tight loop.
    const slow = refused || code === kioskCloseCodes.replaced;
    const delayMs = slow ? this.#options.reconnectMaxMs : this.#backoffMs();

    log.debug({ code, reason, delayMs }, 'connect: retry scheduled');
    // A refused kiosk stays refused through later network failures until a welcome proves otherwise.
    const next = refused || this.#state === 'refused' ? 'refused' : 'disconnected';
    this.#setState(next, { code, reason, retryMs: delayMs });

    this.#retryTimer = setTimeout(() => this.#connect(), delayMs);
  }

  #backoffMs(): number {
    const { reconnectMinMs, reconnectMaxMs, random } = this.#options;
    return backoffDelayMs(this.#failures, reconnectMinMs, reconnectMaxMs, random());
  }

  // Logged on a change only, so a kiosk retrying for hours writes one line, not one per attempt.
  #setState(state: IntercomState, detail: Record<string, unknown> = {}): void {
    if (state === this.#state) return;

    this.#state = state;
    const level = state === 'refused' ? 'error' : state === 'disconnected' ? 'warn' : 'info';
    log[level]({ state, ...detail }, 'state: changed');
    this.emit('state', state);
  }
}

/**
 * Delay before retry number `failures` (from 1): full jitter between `minMs` and a ceiling that
 * doubles with each failure up to `maxMs`, so a fleet of kiosks does not return in step.
 */
export function backoffDelayMs(
  failures: number,
  minMs: number,
  maxMs: number,
  random: number,
): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.max(0, failures - 1));
  return Math.round(minMs + random * (ceiling - minMs));
}

/** The kiosk channel address for a configured URL: a bare host gets the channel path. */
export function channelUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new KioskError(
      'config_invalid',
      `intercom url must be ws:// or wss://, not ${parsed.protocol}`,
    );
  }
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = kioskChannelPath;

  return parsed.toString();
}

function parseServerMessage(data: RawData, isBinary: boolean): ServerToKioskMessage | KioskError {
  if (isBinary) return new KioskError('bad_payload', 'binary messages are not expected');

  let json: unknown;
  try {
    json = JSON.parse(rawText(data));
  } catch {
    return new KioskError('bad_payload', 'message is not JSON');
  }

  const result = ServerToKioskMessageSchema.safeParse(json);
  if (result.success) return result.data;

  return new KioskError('bad_payload', protocolMismatch(result.error));
}

/** What a failed connect means for the person who set intercom.url, e.g. a closed port. */
function socketFailure(error: NodeJS.ErrnoException, url: URL): ConnectFailure {
  const cause = error.code ?? error.message;
  if (error.code === 'ECONNREFUSED') {
    const question = "is the intercom server running, and are intercom.url's host and port right?";
    return { cause, message: `${url.host} refused the connection (ECONNREFUSED): ${question}` };
  }
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') {
    return { cause, message: `cannot resolve ${url.hostname} (${cause}): check intercom.url` };
  }

  return { cause, message: `failed to reach ${url.host}: ${error.message}` };
}

/** An HTTP answer instead of an upgrade: a wrong path, or the guards' channel. */
function upgradeFailure(status: number, url: URL): ConnectFailure {
  const answer = `the server answered HTTP ${status} on ${url.pathname}`;
  const question = `is intercom.url the kiosk channel (…${kioskChannelPath})?`;
  return { cause: `HTTP ${status} on ${url.pathname}`, message: `${answer}: ${question}` };
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');

  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}
