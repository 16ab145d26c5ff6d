/**
 * Turns one received WebSocket message into a schema-checked protocol message, or a coded error
 * the channel answers with, and closes a connection that keeps sending bad ones. Kiosk and guard
 * channels read their messages, and limit the bad ones, the same way.
 */
import type { RawData, WebSocket } from 'ws';
import type { z } from 'zod';
import { KioskError } from '../app/common/errors.js';
import type { Logger } from '../app/core/log.js';
import { protocolMismatch } from '../app/contract/intercom-protocol.js';
import type { ServerStore } from './store.js';

/** Parses `data` with `schema`: size first (before any parsing), then binary, JSON and shape. */
export function parseSocketMessage<S extends z.ZodType>(
  schema: S,
  data: RawData,
  isBinary: boolean,
  maxBytes: number,
): z.infer<S> | KioskError {
  const bytes = rawLength(data);
  if (bytes > maxBytes) {
    return new KioskError('bad_payload', `message of ${bytes} bytes exceeds ${maxBytes}`);
  }
  if (isBinary) return new KioskError('bad_payload', 'binary messages are not accepted');

  let json: unknown;
  try {
    json = JSON.parse(rawText(data));
  } catch {
    return new KioskError('bad_payload', 'message is not JSON');
  }

  const result = schema.safeParse(json);
  if (result.success) return result.data;

  return new KioskError('bad_payload', protocolMismatch(result.error));
}

/** Who sent a bad message: fields for the log (ids, never a person's name) and for the audit. */
export interface Sender {
  log: Record<string, unknown>;
  audit: Record<string, unknown>;
}

/** What a channel's limit on bad messages is built from. */
export interface BadMessageLimitOptions {
  /** Starts the audit action: `kiosk` gives `kiosk.closed_for_bad_messages`. */
  channel: 'kiosk' | 'guard';
  maxBadMessages: number;
  /** The channel's close code for abuse (4400 on both). */
  closeCode: number;
  log: Logger;
  store: Pick<ServerStore, 'appendAudit'>;
  now: () => number;
}

/**
 * Counts each connection's bad messages. One bad message is a client's bug and is only answered;
 * a client that keeps sending them is stuck in a loop or probing, so the one that reaches the
 * limit closes its connection, which is logged and audited like any other refusal.
 */
export class BadMessageLimit {
  readonly #options: BadMessageLimitOptions;
  readonly #counts = new WeakMap<WebSocket, number>();

  constructor(options: BadMessageLimitOptions) {
    this.#options = options;
  }

  /** Logs and counts a refused message of `socket`; true when that closed the connection. */
  refused(socket: WebSocket, error: KioskError, sender: Sender): boolean {
    const count = (this.#counts.get(socket) ?? 0) + 1;
    this.#counts.set(socket, count);
    this.#options.log.warn({ ...sender.log, count, reason: error.message }, 'message: refused');
    if (count < this.#options.maxBadMessages) return false;

    this.#close(socket, count, error, sender);
    return true;
  }

  #close(socket: WebSocket, count: number, last: KioskError, sender: Sender): void {
    const { channel, closeCode, log, store, now } = this.#options;
    socket.close(closeCode, 'bad_payload: too many bad messages');

    log.warn({ ...sender.log, count }, 'message: too many bad messages, connection closed');
    store.appendAudit({
      at: now(),
      action: `${channel}.closed_for_bad_messages`,
      actor: 'system',
      detail: { ...sender.audit, badMessages: count, lastReason: last.message },
    });
  }
}

/** Byte length of a received WebSocket message. */
export function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);

  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

/** A received WebSocket message as UTF-8 text. */
export function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');

  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}
