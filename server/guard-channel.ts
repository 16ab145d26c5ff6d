/**
 * The logged-in guards' control connections. The session cookie is checked on upgrade (app.ts)
 * and again before each message, so a logout or an expired session stops the console at once.
 * Bad messages are answered with an error and logged, and the connection stays: a guard's console
 * is a person's tool, and one bug in it must not hang up a call. Only a console that keeps sending
 * them (a loop, or someone probing with a stolen cookie) is closed, at the kiosks' limit.
 */
import { EventEmitter } from 'node:events';
import type { RawData, WebSocket } from 'ws';
import { KioskError, type ErrorCode } from '../app/common/errors.js';
import { moduleLogger } from '../app/core/log.js';
import type { Authenticator } from './auth.js';
import type { ServerConfig } from './config.js';
import { BadMessageLimit, parseSocketMessage } from './socket-message.js';
import {
  GuardMessageSchema,
  guardCloseCodes,
  type GuardMessage,
  type ServerToGuardMessage,
} from '../app/contract/intercom-protocol.js';
import type { Guard, ServerStore } from './store.js';

const log = moduleLogger('guard-channel');

/** Events the call service listens to; a guard is online while any of their consoles is. */
export interface GuardChannelEvents {
  online: [guard: Guard];
  offline: [guardName: string, reason: string];
  /** `reply` answers the console that sent the message only, not the guard's other consoles. */
  message: [guard: Guard, message: GuardMessage, reply: (message: ServerToGuardMessage) => void];
}

interface Connection {
  socket: WebSocket;
  guard: Guard;
  token: string;
  remote: string;
  missedPings: number;
}

/** What the channel needs. */
export interface GuardChannelOptions {
  auth: Authenticator;
  /** The same limits as kiosks: message size, bad messages and heartbeat. */
  settings: ServerConfig['kiosks'];
  /** Where closing a console for too many bad messages is audited. */
  store: Pick<ServerStore, 'appendAudit'>;
  now: () => number;
}

/** Holds every guard console's connection, grouped by guard name. */
export class GuardChannel extends EventEmitter<GuardChannelEvents> {
  readonly #auth: Authenticator;
  readonly #settings: ServerConfig['kiosks'];
  readonly #byGuard = new Map<string, Set<Connection>>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #badMessages: BadMessageLimit;

  constructor(options: GuardChannelOptions) {
    super();
    this.#auth = options.auth;
    this.#settings = options.settings;
    this.#badMessages = new BadMessageLimit({
      channel: 'guard',
      maxBadMessages: options.settings.maxBadMessages,
      closeCode: guardCloseCodes.abuse,
      log,
      store: options.store,
      now: options.now,
    });
    this.#heartbeat = setInterval(() => this.#beat(), options.settings.heartbeatSeconds * 1000);
  }

  /** Takes over a socket whose upgrade carried the live session `token` of `guard`. */
  attach(socket: WebSocket, guard: Guard, token: string, remote: string): void {
    const connection: Connection = { socket, guard, token, remote, missedPings: 0 };
    const connections = this.#byGuard.get(guard.name) ?? new Set<Connection>();
    const first = connections.size === 0;
    connections.add(connection);
    this.#byGuard.set(guard.name, connections);

    socket.on('message', (data, isBinary) => this.#receiveSafely(connection, data, isBinary));
    socket.on('pong', () => {
      connection.missedPings = 0;
    });
    socket.on('close', () => this.#remove(connection, 'connection closed'));
    // The route's socket error handler (app.ts) logs the failure; this only keeps a socket
    // attached outside a route from throwing.
    socket.on('error', (error) => log.debug({ remote, reason: error.message }, 'socket: error'));

    sendTo(connection, { type: 'welcome', guard: guard.name });
    log.info({ guardId: guard.id, remote, consoles: connections.size }, 'attach: guard online');
    if (first) this.emit('online', guard);
  }

  /** True when the guard has at least one open console. */
  isOnline(guardName: string): boolean {
    return this.#byGuard.has(guardName);
  }

  /** The account of a guard with an open console. */
  onlineGuard(guardName: string): Guard | undefined {
    const connections = this.#byGuard.get(guardName);
    return connections && [...connections][0]?.guard;
  }

  /** Names of the guards with an open console. */
  onlineGuards(): string[] {
    return [...this.#byGuard.keys()];
  }

  /** Sends to every console of a guard; false when the guard is not online. */
  send(guardName: string, message: ServerToGuardMessage): boolean {
    const connections = this.#byGuard.get(guardName);
    if (!connections) return false;

    for (const connection of connections) sendTo(connection, message);
    return true;
  }

  /**
   * Closes every console whose session has ended since it connected (the guard was disabled or
   * their password reset), at once rather than at its next message; returns how many.
   */
  closeEndedSessions(): number {
    const ended = [...this.#byGuard.values()]
      .flatMap((connections) => [...connections])
      .filter((connection) => !this.#auth.sessionGuard(connection.token));

    for (const connection of ended) this.#sessionEnded(connection);
    return ended.length;
  }

  /** Stops the heartbeat and closes every console, telling them to reconnect later. */
  close(): void {
    clearInterval(this.#heartbeat);
    for (const connections of [...this.#byGuard.values()]) {
      for (const connection of connections) {
        this.#remove(connection, 'server shutting down');
        connection.socket.close(guardCloseCodes.shutdown, 'server shutting down');
      }
    }
  }

  // A listener's bug must cost one message, not the server and every other console.
  #receiveSafely(connection: Connection, data: RawData, isBinary: boolean): void {
    try {
      this.#receive(connection, data, isBinary);
    } catch (error) {
      log.error({ err: error, guardId: connection.guard.id }, 'message: handling failed');
      sendError(connection, 'internal', 'the server could not handle this message');
    }
  }

  #receive(connection: Connection, data: RawData, isBinary: boolean): void {
    const guard = this.#auth.sessionGuard(connection.token);
    if (!guard) return this.#sessionEnded(connection);

    const parsed = this.#parse(data, isBinary);
    if (parsed instanceof KioskError) return this.#bad(connection, parsed);
    if (parsed.type === 'ping') return sendTo(connection, { type: 'pong', id: parsed.id });

    this.emit('message', guard, parsed, (reply) => sendTo(connection, reply));
  }

  #parse(data: RawData, isBinary: boolean): GuardMessage | KioskError {
    return parseSocketMessage(GuardMessageSchema, data, isBinary, this.#settings.maxMessageBytes);
  }

  #bad(connection: Connection, error: KioskError): void {
    const { guard, remote, socket } = connection;
    sendError(connection, error.code, error.message);

    const sender = { log: { guardId: guard.id, remote }, audit: { guard: guard.name, remote } };
    if (this.#badMessages.refused(socket, error, sender)) {
      this.#remove(connection, 'too many bad messages');
    }
  }

  #sessionEnded(connection: Connection): void {
    log.info({ guardId: connection.guard.id }, 'message: session ended, closing');
    sendError(connection, 'unauthorised', 'the session has ended; log in again');
    this.#remove(connection, 'session ended');
    connection.socket.close(guardCloseCodes.sessionEnded, 'unauthorised: session ended');
  }

  // A console that missed two pings is gone (laptop lid, network): stop ringing it now.
  #beat(): void {
    for (const connections of [...this.#byGuard.values()]) {
      for (const connection of connections) {
        if (connection.missedPings >= 2) {
          this.#remove(connection, 'missed two heartbeats');
          connection.socket.terminate();
          continue;
        }

        connection.missedPings += 1;
        connection.socket.ping();
      }
    }
  }

  #remove(connection: Connection, reason: string): void {
    const name = connection.guard.name;
    const connections = this.#byGuard.get(name);
    if (!connections?.delete(connection)) return;
    if (connections.size > 0) return;

    this.#byGuard.delete(name);
    log.info({ guardId: connection.guard.id, reason }, 'offline: guard left');
    this.emit('offline', name, reason);
  }
}

function sendError(connection: Connection, code: ErrorCode, message: string): void {
  sendTo(connection, { type: 'error', error: { code, message } });
}

function sendTo(connection: Connection, message: ServerToGuardMessage): void {
  if (connection.socket.readyState !== connection.socket.OPEN) return;

  connection.socket.send(JSON.stringify(message));
}
