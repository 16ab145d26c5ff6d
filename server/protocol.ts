/**
 * The kiosk control channel's messages, both directions. The kiosk's main process imports this
 * file too, so it stays free of Node imports: zod and our error codes only.
 */
import { z } from 'zod';
import { errorCodes } from '../app/common/errors.js';

/** Path of the kiosk control WebSocket on the intercom server. */
export const kioskChannelPath = '/kiosk';

/** Close codes the server uses; the reason text starts with the matching error code. */
export const kioskCloseCodes = {
  /** Unknown kiosk, wrong secret or revoked. */
  refused: 4401,
  /** No hello within the allowed time. */
  helloTimeout: 4408,
  /** Too many malformed or oversized messages. */
  abuse: 4400,
  /** Another connection authenticated as the same kiosk. */
  replaced: 4409,
  /** The kiosk was revoked while connected. */
  revoked: 4403,
  /** The server is shutting down; reconnect. */
  shutdown: 1001,
} as const;

const KioskIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);

/** Messages a kiosk sends. */
export const KioskMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('hello'),
    kioskId: KioskIdSchema,
    secret: z.string().min(1).max(256),
    /** The kiosk software's version, for the kiosks page. */
    version: z.string().max(64).optional(),
  }),
  /** An application-level round trip, answered by `pong` with the same id. */
  z.strictObject({ type: z.literal('ping'), id: z.number().int().nonnegative() }),
]);
export type KioskMessage = z.infer<typeof KioskMessageSchema>;

/** Messages the server sends to a kiosk. */
export const ServerToKioskMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('welcome'),
    kioskId: KioskIdSchema,
    heartbeatSeconds: z.number().positive(),
  }),
  z.strictObject({ type: z.literal('pong'), id: z.number().int().nonnegative() }),
  z.strictObject({
    type: z.literal('error'),
    error: z.strictObject({ code: z.enum(errorCodes), message: z.string() }),
  }),
]);
export type ServerToKioskMessage = z.infer<typeof ServerToKioskMessageSchema>;

/** A kiosk id as admins enter it and kiosks present it: lower-case letters, digits, dashes. */
export const kioskIdSchema = KioskIdSchema;
