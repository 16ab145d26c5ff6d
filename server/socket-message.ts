/**
 * Turns one received WebSocket message into a schema-checked protocol message, or a coded error
 * the channel answers with. Kiosk and guard channels read their messages the same way.
 */
import type { RawData } from 'ws';
import type { z } from 'zod';
import { KioskError } from '../app/common/errors.js';

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

  const fields = result.error.issues.map((issue) => issue.path.join('.') || 'type').join(', ');
  return new KioskError('bad_payload', `message does not match the protocol (${fields})`);
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
