/**
 * The one contract between the untrusted renderer and the trusted core. Electron's preload and the
 * browser host's WebSocket both carry exactly these commands and events, and both check every
 * payload against these schemas before the core sees it.
 */
import { z } from 'zod';
import type { ErrorCode } from '../common/errors.js';
import { wedgeWarningCodes } from '../common/keyboard-wedge.js';
import { MediaConfigSchema, SignalSchema, callEndReasons } from './intercom-protocol.js';

export const locales = ['zh-CN', 'en'] as const;
export const LocaleSchema = z.enum(locales);
export type Locale = z.infer<typeof LocaleSchema>;

/** Why a pass was refused, in words the screen translates for the visitor. */
export const refusalReasons = [
  'expired',
  'not_yet_valid',
  'wrong_gate',
  'used_up',
  'not_a_pass',
  'forged',
  'wrong_site',
  'gate_unavailable',
  /** The visit was admitted but the relay failed during the pulse: the gate may not have opened. */
  'gate_failed',
] as const;
export const RefusalReasonSchema = z.enum(refusalReasons);
export type RefusalReason = z.infer<typeof RefusalReasonSchema>;

export const screens = [
  'idle',
  'privacy',
  'scanning',
  'verifying',
  'accepted',
  'refused',
  /** The guards are being rung; the visitor may cancel. */
  'calling',
  /** A guard answered: two-way audio and video. */
  'inCall',
  /** The guard opened the gate during the call. */
  'callOpened',
  /** Nobody answered in time: the fallback (e.g. a phone number) is shown. */
  'callMissed',
  /** The call ended without an opening (hung up, denied, time limit, connection lost). */
  'callEnded',
] as const;
export type Screen = (typeof screens)[number];

/** Longest scanned text the core accepts: QR version 40 holds under 3 KB, so 8 KB is generous. */
export const maxScanTextLength = 8192;
/** A visitor photo larger than this is refused (JPEG, base64 adds a third on the wire). */
export const maxPhotoBytes = 512 * 1024;

/** Whether an entry method's device works now: `none` when the kiosk has no such device. */
export const DeviceAvailabilitySchema = z.enum(['none', 'ready', 'unavailable']);
export type DeviceAvailability = z.infer<typeof DeviceAvailabilitySchema>;

/** How the page tells a keyboard-wedge scanner's burst from a person typing (milliseconds). */
export const KeyboardScannerSchema = z.strictObject({
  burstGapMs: z.number().positive().max(1000),
  humanGapMs: z.number().positive().max(5000),
  minLength: z.number().int().min(1).max(1000),
});
export type KeyboardScanner = z.infer<typeof KeyboardScannerSchema>;

const hexString = z.string().regex(/^(?:[0-9a-f]{2})*$/, 'lowercase hex bytes');

/** A code the renderer (camera) or a scanner saw: the decoded text and the raw bytes behind it. */
export const ScanReportSchema = z.strictObject({
  text: z.string().max(maxScanTextLength),
  bytesHex: hexString.max(maxScanTextLength * 2),
  charset: z.string().max(32),
  source: z.enum(['camera', 'scanner']),
});
export type ScanReport = z.infer<typeof ScanReportSchema>;

export const PhotoSchema = z.strictObject({
  visitId: z.string().max(64),
  jpegBase64: z
    .string()
    .max(Math.ceil((maxPhotoBytes * 4) / 3) + 4)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64'),
});
export type Photo = z.infer<typeof PhotoSchema>;

/** WebRTC signalling between the renderer and the guard, carried by the core. */
export const CallSignalSchema = z.strictObject({
  callId: z.string().min(1).max(128),
  signal: SignalSchema,
});
export type CallSignal = z.infer<typeof CallSignalSchema>;

/** What the screen shows: a projection of the core's state, never a source of decisions. */
export const KioskViewSchema = z.strictObject({
  screen: z.enum(screens),
  locale: LocaleSchema,
  demo: z.boolean(),
  gateName: z.string(),
  siteName: z.string(),
  privacy: z.strictObject({
    controller: z.string(),
    purpose: z.string(),
    retentionDays: z.number().int(),
  }),
  /** Present on `accepted`: what the screen may say about the pass holder. */
  accepted: z
    .strictObject({
      visitId: z.string(),
      maskedName: z.string(),
      hostUnit: z.string(),
      gateOpenUntil: z.number(),
      entriesLeft: z.number().int(),
      photoWanted: z.boolean(),
    })
    .nullable(),
  refusal: RefusalReasonSchema.nullable(),
  /** Devices the visitor depends on, so the screen can degrade instead of failing silently. */
  gateAvailable: z.boolean(),
  /** The entry methods that depend on a device: the screen says which one is out of order. */
  entryMethods: z.strictObject({
    scanner: DeviceAvailabilitySchema,
    idCard: DeviceAvailabilitySchema,
  }),
  /** A scanner that types its codes into the kiosk window, or null when none is configured. */
  keyboardScanner: KeyboardScannerSchema.nullable(),
  /** Epoch ms when the current screen gives up and returns to idle, for a visible countdown. */
  screenTimeoutAt: z.number().nullable(),
  /** The call to the guards, from the button press until its end screen is left. */
  call: z
    .strictObject({
      /** Null until the server has accepted the call and named it. */
      callId: z.string().nullable(),
      /** The guard who answered, once one has. */
      guard: z.string().nullable(),
      /** Epoch ms when ringing gives up (missed call). */
      ringEndsAt: z.number().nullable(),
      /** Epoch ms when the maximum call time ends an answered call. */
      endsAt: z.number().nullable(),
      /** The call ends within seconds (maximum call time): the screen warns. */
      endingSoon: z.boolean(),
      endReason: z.enum(callEndReasons).nullable(),
      /** ICE settings for the renderer's peer connection, present once a guard answered. */
      media: MediaConfigSchema.nullable(),
    })
    .nullable(),
  /** The call button works now: an intercom server is configured and connected. */
  callAvailable: z.boolean(),
  /** What to tell a visitor when no guard answers or the intercom is down (e.g. a phone number). */
  callFallback: z.string(),
  /** KeyboardEvent.code of a call button that types a key, or null when none is configured. */
  callKey: z.string().nullable(),
});
export type KioskView = z.infer<typeof KioskViewSchema>;

const empty = z.strictObject({});

/** Every command the renderer may send, with the schema of its input and of its result. */
export const commands = {
  'view:get': { input: empty, output: KioskViewSchema },
  'visitor:touch': { input: empty, output: z.void() },
  'visitor:startScan': { input: empty, output: z.void() },
  'visitor:showPrivacy': { input: empty, output: z.void() },
  'visitor:cancel': { input: empty, output: z.void() },
  'visitor:setLocale': { input: z.strictObject({ locale: LocaleSchema }), output: z.void() },
  'scan:report': { input: ScanReportSchema, output: z.void() },
  /** The page saw keyboard-wedge input it could not trust (an input method, lost keys). */
  'scanner:warning': {
    input: z.strictObject({ code: z.enum(wedgeWarningCodes) }),
    output: z.void(),
  },
  'photo:submit': { input: PhotoSchema, output: z.void() },
  /** The visitor asked for a guard: the on-screen button or a call button that types a key. */
  'visitor:call': {
    input: z.strictObject({ source: z.enum(['screen', 'keyboard']) }),
    output: z.void(),
  },
  /** Cancels a ringing call or hangs up an answered one. */
  'visitor:hangUp': { input: empty, output: z.void() },
  /** WebRTC signalling from the renderer's peer connection, for the guard holding the call. */
  'call:signal': { input: CallSignalSchema, output: z.void() },
  /** The renderer's peer connection changed state; the core logs it for diagnostics. */
  'call:media': {
    input: z.strictObject({
      callId: z.string().max(128),
      iceConnectionState: z.string().max(32),
      connectionState: z.string().max(32),
    }),
    output: z.void(),
  },
} as const;

export type CommandName = keyof typeof commands;
export type CommandInput<C extends CommandName> = z.infer<(typeof commands)[C]['input']>;
export type CommandOutput<C extends CommandName> = z.infer<(typeof commands)[C]['output']>;

/** Every event the core pushes to the renderer. */
export const events = {
  'view:changed': KioskViewSchema,
  /** Signalling from the guard for the renderer's peer connection. */
  'call:signal': CallSignalSchema,
} as const;

export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.infer<(typeof events)[E]>;

/** The API the renderer sees as `window.kiosk`, whichever transport carries it. */
export interface KioskApi {
  invoke<C extends CommandName>(command: C, input: CommandInput<C>): Promise<CommandOutput<C>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

/** The core's side of the contract: what main and the browser host bind the transports to. */
export interface KioskService {
  handle<C extends CommandName>(command: C, input: CommandInput<C>): Promise<CommandOutput<C>>;
  subscribe<E extends EventName>(
    event: E,
    listener: (payload: EventPayload<E>) => void,
  ): () => void;
}

/** Parses a command's input; throws a ZodError naming the field when it does not fit. */
export function parseCommandInput<C extends CommandName>(
  command: C,
  input: unknown,
): CommandInput<C> {
  return commands[command].input.parse(input) as CommandInput<C>;
}

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.hasOwn(commands, name);
}

/**
 * How main answers a command over Electron IPC. Electron keeps only an error's message when it
 * crosses IPC and the context bridge, so the error's code travels inside the reply instead.
 */
export type IpcReply<T> =
  { ok: true; output: T } | { ok: false; error: { code: ErrorCode; message: string } };

/** Electron IPC channel names: one per command, prefixed so nothing else on the bus collides. */
export const ipcChannel = (name: CommandName | EventName): string => `kiosk:${name}`;
