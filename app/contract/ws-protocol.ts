/**
 * How the browser host carries the contract over a WebSocket. Electron uses IPC instead; both
 * carry the same commands and events from `api.ts`.
 */
import { z } from 'zod';
import { errorCodes } from '../common/errors.js';

/** Path of the host's WebSocket; the per-start token goes in the `token` query parameter. */
export const wsPath = '/api';
/** A message larger than this is refused before parsing (a photo is the largest legal payload). */
export const maxWsMessageBytes = 1024 * 1024;

export const ClientMessageSchema = z.strictObject({
  type: z.literal('invoke'),
  id: z.number().int().nonnegative(),
  command: z.string().max(64),
  input: z.unknown(),
});
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

export const ServerMessageSchema = z.discriminatedUnion('type', [
  // Optional because JSON drops an undefined value: a void command's result arrives without it.
  z.strictObject({ type: z.literal('result'), id: z.number(), output: z.unknown().optional() }),
  z.strictObject({
    type: z.literal('error'),
    id: z.number().nullable(),
    error: z.strictObject({ code: z.enum(errorCodes), message: z.string() }),
  }),
  z.strictObject({ type: z.literal('event'), event: z.string(), payload: z.unknown() }),
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
