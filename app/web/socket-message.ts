/**
 * Reads one message a page's WebSocket received: text, then JSON, then the protocol's schema. The
 * kiosk page and the guard console both drop (and log) anything else and carry on.
 */
import type { z } from 'zod';
import type { PageLogger } from './log.js';

/** The message in `data` checked against `schema`, or null (logged to `log`) when it is not one. */
export function readSocketMessage<S extends z.ZodType>(
  schema: S,
  data: unknown,
  log: PageLogger,
): z.infer<S> | null {
  if (typeof data !== 'string') {
    log.warn('message: not text, ignored');
    return null;
  }

  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    log.warn('message: not JSON, ignored');
    return null;
  }

  const result = schema.safeParse(json);
  if (result.success) return result.data;

  const fields = result.error.issues.map((issue) => issue.path.join('.') || 'type');
  log.warn('message: not in the protocol, ignored', { fields });
  return null;
}
