/**
 * The kiosks' control connections and the registry of which kiosks are online. A kiosk connects,
 * says hello with its id and secret within a few seconds, and is then pinged on a fixed beat; one
 * that misses two pings is offline. Bad messages are answered and counted, never fatal to the
 * server; only a connection that keeps sending them is closed.
 */
import { EventEmitter } from 'node:events';
import type { RawData, WebSocket } from 'ws';
import { KioskError, type ErrorCode } from '../app/common/errors.js';
import { moduleLogger } from '../app/core/log.js';
import type { Authenticator } from './auth.js';
import type { ServerConfig } from './config.js';
import {
  KioskMessageSchema,
  kioskCloseCodes,
  type KioskMessage,
  type ServerToKioskMessage,
} from '../app/contract/intercom-protocol.js';
import type { KioskRecord, ServerStore } from './store.js';
import { BadMessageLimit, parseSocketMessage } from './socket-message.js';

const log = moduleLogger('kiosk-channel');

/** What the registry knows about an online kiosk. */
export interface OnlineKiosk {
  kiosk: KioskRecord;
  remote: string;
  connectedAt: number;
  /** Its last message or heartbeat answer. */
  lastSeenAt: number;
  version: string | undefined;
}

/** Events other parts of the server (calls) listen to. */
export interface KioskChannelEvents {
  online: [OnlineKiosk];
  offline: [kioskId: string, reason: string];
  message: [kioskId: string, message: KioskMessage];
}

interface Connection {
  socket: WebSocket;
  remote: string;
  online: OnlineKiosk | undefined;
  missedPings: number;
  helloTimer: NodeJS.Timeout | undefined;
}

/** What the channel needs. */
export interface KioskChannelOptions {
  auth: Authenticator;
  settings: ServerConfig['kiosks'];
  /** Where closing a connection for too many bad messages is audited. */
  store: Pick<ServerStore, 'appendAudit'>;
  now: () => number;
}

/** Accepts kiosk connections, authenticates them and keeps the online registry. */
export class KioskChannel extends EventEmitter<KioskChannelEvents> {
  readonly #auth: Authenticator;
  readonly #settings: ServerConfig['kiosks'];
  readonly #now: () => number;
  readonly #connections = new Set<Connection>();
  readonly #online = new Map<string, Connection>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #badMessages: BadMessageLimit;

  constructor(options: KioskChannelOptions) {
    super();
    this.#auth = options.auth;
    this.#settings = options.settings;
    this.#now = options.now;
    this.#badMessages = new BadMessageLimit({
      channel: 'kiosk',
      maxBadMessages: options.settings.maxBadMessages,
      closeCode: kioskCloseCodes.abuse,
      log,
      store: options.store,
      now: options.now,
    });
    this.#heartbeat = setInterval(() => this.#beat(), options.settings.heartbeatSeconds * 1000);
  }

  /** Takes over a freshly upgraded socket; the kiosk must say hello before anything else. */
  attach(socket: WebSocket, remote: string): void {
    const connection: Connection = {
      socket,
      remote,
      online: undefined,
      missedPings: 0,
      helloTimer: setTimeout(
        () => this.#helloTimedOut(connection),
        this.#settings.helloSeconds * 1000,
      ),
    };
    this.#connections.add(connection);

    socket.on('message', (data, isBinary) => this.#receiveSafely(connection, data, isBinary));
    socket.on('pong', () => {
      connection.missedPings = 0;
      this.#seen(connection);
    });
    socket.on('close', (code, reason) => this.#closed(connection, code, reason.toString()));
    // The route's socket error handler (app.ts) logs the failure; this only keeps a socket
    // attached outside a route from throwing.
    socket.on('error', (error) => log.debug({ remote, reason: error.message }, 'socket: error'));
  }

  /** True when the kiosk holds an authenticated connection that answers its pings. */
  isOnline(kioskId: string): boolean {
    return this.#online.has(kioskId);
  }

  /** What the registry knows about an online kiosk, if it is online. */
  onlineKiosk(kioskId: string): OnlineKiosk | undefined {
    return this.#online.get(kioskId)?.online;
  }

  /** Every online kiosk. */
  onlineKiosks(): OnlineKiosk[] {
    return [...this.#online.values()].flatMap((connection) => connection.online ?? []);
  }

  /** Takes an admin's change of an online kiosk's record, so its next call carries the new name. */
  refresh(record: KioskRecord): void {
    const online = this.#online.get(record.id)?.online;
    if (online) online.kiosk = record;
  }

  /** Sends a message to an online kiosk; false when it is not online. */
  send(kioskId: string, message: ServerToKioskMessage): boolean {
    const connection = this.#online.get(kioskId);
    if (!connection) return false;

    sendTo(connection, message);
    return true;
  }

  /** Closes a kiosk's connection, e.g. because it was revoked. */
  disconnect(kioskId: string, code: number, reason: string): void {
    const connection = this.#online.get(kioskId);
    if (!connection) return;

    this.#goOffline(connection, reason);
    connection.socket.close(code, reason);
  }

  /** Stops the heartbeat and closes every connection, telling kiosks to reconnect later. */
  close(): void {
    clearInterval(this.#heartbeat);
    for (const connection of this.#connections) {
      clearTimeout(connection.helloTimer);
      this.#goOffline(connection, 'server shutting down');
      connection.socket.close(kioskCloseCodes.shutdown, 'server shutting down');
    }
  }

  // A listener's bug must cost one message, not the server and every other kiosk's connection.
  #receiveSafely(connection: Connection, data: RawData, isBinary: boolean): void {
    try {
      this.#receive(connection, data, isBinary);
    } catch (error) {
      log.error({ err: error, kioskId: connection.online?.kiosk.id }, 'message: handling failed');
      sendError(connection, 'internal', 'the server could not handle this message');
    }
  }

  #receive(connection: Connection, data: RawData, isBinary: boolean): void {
    const parsed = this.#parse(data, isBinary);
    if (parsed instanceof KioskError) return this.#bad(connection, parsed);

    if (!connection.online) return this.#hello(connection, parsed);
    this.#seen(connection);
    if (parsed.type === 'hello') {
      return this.#bad(connection, new KioskError('bad_payload', 'hello was already accepted'));
    }
    if (parsed.type === 'ping') return sendTo(connection, { type: 'pong', id: parsed.id });

    this.emit('message', connection.online.kiosk.id, parsed);
  }

  #parse(data: RawData, isBinary: boolean): KioskMessage | KioskError {
    return parseSocketMessage(KioskMessageSchema, data, isBinary, this.#settings.maxMessageBytes);
  }

  #hello(connection: Connection, message: KioskMessage): void {
    clearTimeout(connection.helloTimer);
    if (message.type !== 'hello') {
      this.#auth.recordKioskRefusal(null, 'no hello first', connection.remote);
      return refuse(connection, kioskCloseCodes.refused, 'unauthorised', 'hello expected first');
    }

    let kiosk: KioskRecord;
    try {
      kiosk = this.#auth.authenticateKiosk(message.kioskId, message.secret, connection.remote);
    } catch (error) {
      if (!(error instanceof KioskError)) throw error;
      return refuse(connection, kioskCloseCodes.refused, error.code, error.message);
    }

    this.#register(connection, kiosk, message.version);
  }

  #register(connection: Connection, kiosk: KioskRecord, version: string | undefined): void {
    const previous = this.#online.get(kiosk.id);
    if (previous) {
      this.#goOffline(previous, 'replaced by a new connection');
      previous.socket.close(kioskCloseCodes.replaced, 'replaced by a new connection');
    }

    const now = this.#now();
    connection.online = {
      kiosk,
      remote: connection.remote,
      connectedAt: now,
      lastSeenAt: now,
      version,
    };
    this.#online.set(kiosk.id, connection);
    sendTo(connection, {
      type: 'welcome',
      kioskId: kiosk.id,
      heartbeatSeconds: this.#settings.heartbeatSeconds,
    });

    log.info({ kioskId: kiosk.id, remote: connection.remote, version }, 'hello: kiosk online');
    this.emit('online', connection.online);
  }

  #bad(connection: Connection, error: KioskError): void {
    const { online, remote, socket } = connection;
    // Before hello, a bad message is a refused hello (logged and audited as such), not abuse.
    if (!online) {
      this.#auth.recordKioskRefusal(null, error.message, remote);
      return refuse(connection, kioskCloseCodes.refused, 'unauthorised', error.message);
    }

    sendError(connection, error.code, error.message);
    const kioskId = online.kiosk.id;
    const sender = { log: { kioskId, remote }, audit: { kioskId, remote } };
    if (this.#badMessages.refused(socket, error, sender)) {
      this.#goOffline(connection, 'too many bad messages');
    }
  }

  #seen(connection: Connection): void {
    if (connection.online) connection.online.lastSeenAt = this.#now();
  }

  #helloTimedOut(connection: Connection): void {
    this.#auth.recordKioskRefusal(null, 'no hello in time', connection.remote);
    const message = `no hello within ${this.#settings.helloSeconds} s`;
    refuse(connection, kioskCloseCodes.helloTimeout, 'timeout', message);
  }

  // A kiosk that missed two pings is gone (power, network): say so now, not when TCP notices.
  #beat(): void {
    for (const connection of this.#online.values()) {
      if (connection.missedPings >= 2) {
        this.#goOffline(connection, 'missed two heartbeats');
        connection.socket.terminate();
        continue;
      }

      connection.missedPings += 1;
      connection.socket.ping();
    }
  }

  #closed(connection: Connection, code: number, reason: string): void {
    clearTimeout(connection.helloTimer);
    this.#connections.delete(connection);
    this.#goOffline(connection, `closed (${code}${reason ? `: ${reason}` : ''})`);
  }

  #goOffline(connection: Connection, reason: string): void {
    const kioskId = connection.online?.kiosk.id;
    if (!kioskId || this.#online.get(kioskId) !== connection) return;

    this.#online.delete(kioskId);
    log.info({ kioskId, reason }, 'offline: kiosk left');
    this.emit('offline', kioskId, reason);
  }
}

function refuse(connection: Connection, closeCode: number, code: ErrorCode, message: string): void {
  sendError(connection, code, message);
  // A close reason is limited to 123 bytes; our messages are ASCII.
  connection.socket.close(closeCode, `${code}: ${message}`.slice(0, 120));
}

function sendError(connection: Connection, code: ErrorCode, message: string): void {
  sendTo(connection, { type: 'error', error: { code, message } });
}

function sendTo(connection: Connection, message: ServerToKioskMessage): void {
  if (connection.socket.readyState !== connection.socket.OPEN) return;

  connection.socket.send(JSON.stringify(message));
}
