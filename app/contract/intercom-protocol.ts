/**
 * The intercom's messages between the server and kiosks or guard consoles, both directions. The
 * server, the kiosk's core and (later) the guard console share this file, so it stays free of
 * Node imports: zod and our error codes only.
 */
import { z } from 'zod';
import { errorCodes } from '../common/errors.js';

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

const CallIdSchema = z.string().min(1).max(128);

/** Upper bound of a signal's payload as JSON; an SDP offer with many candidates fits easily. */
export const maxSignalBytes = 32 * 1024;

/** Opaque WebRTC signalling: the server checks only its kind and size, never its content. */
export const SignalSchema = z.strictObject({
  kind: z.enum(['offer', 'answer', 'ice', 'restart']),
  data: z
    .unknown()
    .refine((data) => (JSON.stringify(data ?? null) ?? '').length <= maxSignalBytes, {
      message: `signal data exceeds ${maxSignalBytes} bytes`,
    }),
});
export type Signal = z.infer<typeof SignalSchema>;

/** Why the server refused a message about a call; nothing was changed or sent on. */
export const callRefusalCodes = [
  'call_not_found',
  'call_ended',
  'wrong_kiosk',
  'not_in_ring_group',
  'already_answered',
  'not_call_holder',
  'not_answered',
  'kiosk_busy',
  'no_guards',
  /** The kiosk is not connected, so an open could not reach it: nothing opened. */
  'kiosk_offline',
  /** The gate was already opened for this call; the kiosk accepts one open per call. */
  'already_opened',
] as const;
export type CallRefusalCode = (typeof callRefusalCodes)[number];

/** One entry of RTCConfiguration.iceServers, TURN credentials included when configured. */
export const IceServerSchema = z.strictObject({
  urls: z.array(z.string().max(512)).min(1).max(16),
  username: z.string().max(256).optional(),
  credential: z.string().max(256).optional(),
});
export type IceServer = z.infer<typeof IceServerSchema>;

/**
 * How both ends of a call set up WebRTC: the ICE servers (fresh TURN credentials per call) and the
 * transport policy (`relay` forces every packet through TURN, for sites whose firewall allows
 * nothing else).
 */
export const MediaConfigSchema = z.strictObject({
  iceServers: z.array(IceServerSchema).max(8),
  iceTransportPolicy: z.enum(['all', 'relay']),
});
export type MediaConfig = z.infer<typeof MediaConfigSchema>;

/** What the kiosk knows about the visitor when they call, shown to the guard beside the video. */
export const CallContextSchema = z.strictObject({
  /** The last code scanned in this visit and what the kiosk made of it, if one was scanned. */
  scan: z
    .strictObject({
      verdict: z.enum(['accepted', 'refused']),
      /** The refusal reason's code (e.g. `expired`), null when accepted. */
      reason: z.string().max(32).nullable(),
      maskedName: z.string().max(64).nullable(),
      /** Where the visitor is going, as far as the kiosk knows (a pass's host unit). */
      destination: z.string().max(128).nullable(),
    })
    .nullable(),
  /** A small JPEG snapshot of the visitor, base64; the live video is what the guard relies on. */
  photoJpegBase64: z
    .string()
    .max(96 * 1024)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64')
    .nullable(),
});
export type CallContext = z.infer<typeof CallContextSchema>;

/** Why a call ended, as kiosks and guards are told. */
export const callEndReasons = [
  'missed',
  'cancelled',
  'hung_up_by_guard',
  'hung_up_by_kiosk',
  'denied',
  'max_call_time',
  'guard_left',
  'kiosk_left',
] as const;

const RefusedSchema = z.strictObject({
  type: z.literal('refused'),
  /** The refused message's type, e.g. `open`. */
  request: z.string(),
  callId: CallIdSchema.nullable(),
  code: z.enum(callRefusalCodes),
  message: z.string(),
});

const ErrorSchema = z.strictObject({
  type: z.literal('error'),
  error: z.strictObject({ code: z.enum(errorCodes), message: z.string() }),
});

const SignalMessageSchema = z.strictObject({
  type: z.literal('signal'),
  callId: CallIdSchema,
  signal: SignalSchema,
});

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
  /** The visitor pressed the call button: ring the kiosk's ring group. */
  z.strictObject({ type: z.literal('call'), context: CallContextSchema.optional() }),
  /** The visitor gave up while it rang (or during the call). */
  z.strictObject({ type: z.literal('cancel'), callId: CallIdSchema }),
  /** The kiosk ends an answered call. */
  z.strictObject({ type: z.literal('hangup'), callId: CallIdSchema }),
  /** WebRTC signalling for the guard holding the call; relayed as it is. */
  z.strictObject({ type: z.literal('signal'), callId: CallIdSchema, signal: SignalSchema }),
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
  ErrorSchema,
  /** The guards are being rung; the call is missed at `ringEndsAt` unless one answers. */
  z.strictObject({ type: z.literal('ringing'), callId: CallIdSchema, ringEndsAt: z.number() }),
  /** A guard took the call; only this guard's open commands are valid for it. */
  z.strictObject({
    type: z.literal('answered'),
    callId: CallIdSchema,
    guard: z.string(),
    endsAt: z.number(),
    /** The kiosk offers the media; these are its ICE settings for this call. */
    media: MediaConfigSchema,
  }),
  /** Nobody answered in time: show the fallback. `ended` follows. */
  z.strictObject({ type: z.literal('missed'), callId: CallIdSchema }),
  /** The maximum call time ends the call at `endsAt`. */
  z.strictObject({ type: z.literal('ending-soon'), callId: CallIdSchema, endsAt: z.number() }),
  z.strictObject({
    type: z.literal('ended'),
    callId: CallIdSchema,
    reason: z.enum(callEndReasons),
  }),
  /** The guard holding the call opens the gate; the core checks it (RemoteOpenCommandSchema). */
  z.strictObject({
    type: z.literal('open'),
    callId: CallIdSchema,
    guard: z.string(),
    issuedAt: z.number(),
    nonce: z.string(),
  }),
  /** The guard refused entry; `ended` follows. */
  z.strictObject({ type: z.literal('denied'), callId: CallIdSchema }),
  SignalMessageSchema,
  RefusedSchema,
]);
export type ServerToKioskMessage = z.infer<typeof ServerToKioskMessageSchema>;

/** A kiosk id as admins enter it and kiosks present it: lower-case letters, digits, dashes. */
export const kioskIdSchema = KioskIdSchema;

/** Path of the guards' control WebSocket; the session cookie is checked on upgrade. */
export const guardChannelPath = '/guard';

/** Messages a logged-in guard's console sends. */
export const GuardMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ping'), id: z.number().int().nonnegative() }),
  /** Takes a ringing call; the first guard to answer holds it. */
  z.strictObject({ type: z.literal('answer'), callId: CallIdSchema }),
  z.strictObject({ type: z.literal('hangup'), callId: CallIdSchema }),
  /** Opens the gate of the call's kiosk; only the guard holding the call may. */
  z.strictObject({ type: z.literal('open'), callId: CallIdSchema }),
  /** Refuses entry and ends the call. */
  z.strictObject({ type: z.literal('deny'), callId: CallIdSchema }),
  SignalMessageSchema,
]);
export type GuardMessage = z.infer<typeof GuardMessageSchema>;

/** A live call as a guard's queue shows it. */
export const QueuedCallSchema = z.strictObject({
  callId: CallIdSchema,
  kioskId: KioskIdSchema,
  kioskName: z.string(),
  state: z.enum(['ringing', 'answered']),
  ringStartedAt: z.number(),
  guard: z.string().nullable(),
});
export type QueuedCall = z.infer<typeof QueuedCallSchema>;

/** Messages the server sends to a guard's console. */
export const ServerToGuardMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('welcome'), guard: z.string() }),
  z.strictObject({ type: z.literal('pong'), id: z.number().int().nonnegative() }),
  z.strictObject({
    type: z.literal('ringing'),
    callId: CallIdSchema,
    kioskId: KioskIdSchema,
    kioskName: z.string(),
    ringEndsAt: z.number(),
    context: CallContextSchema.nullable(),
  }),
  /** This guard's ringing stopped; `answeredBy` names the guard who took the call, if one did. */
  z.strictObject({
    type: z.literal('ring-stopped'),
    callId: CallIdSchema,
    reason: z.enum(['answered', 'cancelled', 'missed', 'guard_left', 'kiosk_left']),
    answeredBy: z.string().nullable(),
  }),
  /** This guard now holds the call. */
  z.strictObject({
    type: z.literal('answered'),
    callId: CallIdSchema,
    kioskId: KioskIdSchema,
    kioskName: z.string(),
    endsAt: z.number(),
    context: CallContextSchema.nullable(),
    /** The guard answers the kiosk's offer; these are the guard's ICE settings for this call. */
    media: MediaConfigSchema,
  }),
  /** A call of this guard's ring group went unanswered, for the missed-calls list. */
  z.strictObject({
    type: z.literal('missed'),
    callId: CallIdSchema,
    kioskId: KioskIdSchema,
    kioskName: z.string(),
    at: z.number(),
  }),
  z.strictObject({ type: z.literal('ending-soon'), callId: CallIdSchema, endsAt: z.number() }),
  /** The call this guard held ended. */
  z.strictObject({
    type: z.literal('ended'),
    callId: CallIdSchema,
    reason: z.enum(callEndReasons),
  }),
  /** The open command went to the kiosk; the kiosk's core still checks it. */
  z.strictObject({ type: z.literal('open-sent'), callId: CallIdSchema }),
  /** The live calls of this guard's ring groups, oldest first; sent whenever it changes. */
  z.strictObject({ type: z.literal('queue'), calls: z.array(QueuedCallSchema) }),
  SignalMessageSchema,
  RefusedSchema,
  ErrorSchema,
]);
export type ServerToGuardMessage = z.infer<typeof ServerToGuardMessageSchema>;

/** Close codes of the guard channel; the reason text starts with the matching error code. */
export const guardCloseCodes = {
  /** The session expired, was logged out or the guard was disabled. */
  sessionEnded: 4401,
  /** Too many malformed or oversized messages; the same code as the kiosk channel's. */
  abuse: 4400,
  /** The server is shutting down; reconnect. */
  shutdown: 1001,
} as const;

/**
 * What is wrong with a message outside the protocol, for the error that answers it: the path of
 * each field at fault, and a field the protocol does not have by name (`unknown field pad`).
 */
export function protocolMismatch(error: z.ZodError): string {
  const problems = error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code !== 'unrecognized_keys') return [path || 'type'];

    return issue.keys.map((key) => `unknown field ${path ? `${path}.${key}` : key}`);
  });
  return `message does not match the protocol (${problems.join(', ')})`;
}
