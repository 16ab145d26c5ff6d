/**
 * The kiosk's one configuration file. Everything has a default that gives a demo kiosk on
 * simulated devices; a production file names real ports and real keys. A bad file is refused as
 * a whole with a message naming each wrong field, never half applied.
 */
import { z } from 'zod';
import { LocaleSchema, locales, type Locale } from '../contract/api.js';
import { kioskIdSchema } from '../contract/intercom-protocol.js';
import { loadJsonConfig, parseWithSchema } from './config-file.js';

const RelaySchema = z.strictObject({
  /** `simulator` runs the LCUS simulator on a pseudo-terminal pair; `lcus` opens a real port. */
  kind: z.enum(['simulator', 'lcus']).default('simulator'),
  /** Serial port path, e.g. /dev/ttyUSB0 or COM3. Required for `lcus`. */
  port: z.string().min(1).optional(),
  baudRate: z.number().int().positive().default(9600),
  channel: z.number().int().min(1).max(8).default(1),
  /** Some boards are wired so that "off" closes the contact. */
  invert: z.boolean().default(false),
  pulseMs: z.number().int().min(100).max(10_000).default(1000),
});

const PassesSchema = z.strictObject({
  /** Public keys (JWK, Ed25519) the site signs passes with; several allow key rotation. */
  publicKeys: z.array(z.record(z.string(), z.unknown())).default([]),
  /** Seconds of clock difference tolerated on not-before and expiry. */
  clockSkewSeconds: z.number().int().min(0).max(600).default(60),
});

/** The fallback when none is configured, one text per language. */
export const defaultCallFallback: Record<Locale, string> = {
  'zh-CN': '请联系物业管理处。',
  en: 'Please contact the property management office.',
};

const FallbackTextSchema = z.string().min(1).max(500);

/** One text shown in every language, or a text per language (at least one). */
const CallFallbackSchema = z.union(
  [
    FallbackTextSchema,
    z
      .strictObject({ 'zh-CN': FallbackTextSchema.optional(), en: FallbackTextSchema.optional() })
      .refine((texts) => Object.values(texts).some(Boolean), 'needs a text for "zh-CN" or "en"'),
  ],
  {
    error:
      'must be a text for every language, or a text per language such as ' +
      '{ "zh-CN": "请致电 010-1234 5678", "en": "Please call 010-1234 5678" }',
  },
);

/** A configured fallback: one text, or texts per language. */
export type CallFallback = z.infer<typeof CallFallbackSchema>;

const IntercomSchema = z
  .strictObject({
    /** The intercom server's kiosk channel, e.g. wss://intercom.example/kiosk. */
    url: z
      .string()
      .regex(/^wss?:\/\/[^\s/]+/, 'must be a ws:// or wss:// address')
      .refine((value) => URL.canParse(value), 'is not a valid address'),
    /** This kiosk's id as the admin enrolled it. */
    kioskId: kioskIdSchema,
    /** The secret the server handed out at enrolment. */
    secret: z.string().min(1).max(256),
    reconnectMinMs: z.number().int().min(50).max(60_000).default(500),
    reconnectMaxMs: z.number().int().min(50).max(600_000).default(10_000),
    /** What the visitor is told when no guard answers or the intercom is down, e.g. a number. */
    fallback: CallFallbackSchema.default(defaultCallFallback),
    /** The kiosk ends the call this long after the guard opened, so the line is not left open. */
    hangUpAfterOpenSeconds: z.number().int().min(1).max(120).default(5),
  })
  .refine((intercom) => intercom.reconnectMinMs <= intercom.reconnectMaxMs, {
    path: ['reconnectMaxMs'],
    message: 'must not be below reconnectMinMs',
  });

const hidIdFormat = 'must be a number 0-65535 or a hex string like 0x1a2b';

/** A USB HID value: a number, or a hex string such as `0x1a2b` as device lists print it. */
const HidIdSchema = z.union(
  [
    z.number().int(hidIdFormat).min(0, hidIdFormat).max(0xffff, hidIdFormat),
    z
      .string()
      .regex(/^0x[0-9a-f]{1,4}$/i, hidIdFormat)
      .transform((hex) => Number.parseInt(hex, 16)),
  ],
  { error: hidIdFormat },
);

/**
 * The KeyboardEvent.code values a call button may type: letters, digits, function keys, the
 * numeric pad, and the named keys such buttons are sold with. A misspelt code would never match.
 */
const keyCodePattern = new RegExp(
  '^(?:' +
    [
      'Key[A-Z]',
      'Digit[0-9]',
      'F(?:[1-9]|1[0-9]|2[0-4])',
      'Numpad(?:[0-9]|Add|Subtract|Multiply|Divide|Decimal|Enter|Equal|Comma)',
      'Arrow(?:Up|Down|Left|Right)',
      'Enter|Space|Tab|Escape|Backspace|Delete|Insert|Home|End|PageUp|PageDown',
      'Pause|ScrollLock|PrintScreen|ContextMenu|Help',
      'Minus|Equal|BracketLeft|BracketRight|Backslash|Semicolon|Quote|Backquote',
      'Comma|Period|Slash',
      'Media(?:PlayPause|Stop|TrackNext|TrackPrevious|Select)|AudioVolume(?:Up|Down|Mute)',
    ].join('|') +
    ')$',
);

const keyCodeFormat =
  'must be a KeyboardEvent.code: KeyA-KeyZ, Digit0-Digit9, F1-F24, Numpad0-Numpad9, ' +
  'NumpadEnter, Enter, Space, ArrowUp, MediaPlayPause …, e.g. "F9" or "KeyB"';

const CallButtonSchema = z.strictObject({
  /**
   * KeyboardEvent.code of a call button that presents itself as a keyboard (e.g. `F13`), or
   * null. The page sees the key; the core still debounces it like any other press.
   */
  key: z.string().regex(keyCodePattern, keyCodeFormat).nullable().default(null),
  /** Presses closer together than this count once: buttons bounce, visitors press twice. */
  debounceMs: z.number().int().min(0).max(5_000).default(300),
  /** A USB HID call button read through node-hid. */
  hid: z
    .strictObject({
      vendorId: HidIdSchema,
      productId: HidIdSchema,
      /** Index of the byte in each input report that carries the button. */
      reportByte: z.number().int().min(0).max(63),
      /** Bits of that byte that read as pressed when any of them is set. */
      mask: z.number().int().min(1).max(255),
      /** The hidraw path, for a kiosk with two devices of the same vendor and product. */
      path: z.string().min(1).optional(),
    })
    .optional(),
});

export const ConfigSchema = z
  .strictObject({
    site: z.string().min(1).default('demo-site'),
    siteName: z.string().default('Demo compound'),
    gate: z.string().min(1).default('main-gate'),
    gateName: z.string().default('Main gate'),
    defaultLocale: LocaleSchema.default('zh-CN'),
    /** Where the encrypted store lives; a relative path is taken from the config file's folder. */
    dataDir: z.string().default('.kiosk'),
    /** Key that encrypts the store at rest. Demo kiosks derive one; production must set it. */
    storeKey: z.string().min(16).optional(),
    relay: RelaySchema.prefault({}),
    passes: PassesSchema.prefault({}),
    /** The control connection to the guards' intercom server; without it there is no call button. */
    intercom: IntercomSchema.optional(),
    /** Physical call buttons; the on-screen button needs no setting. */
    callButton: CallButtonSchema.prefault({}),
    privacy: z
      .strictObject({
        controller: z.string().default('Property management office'),
        purpose: z.string().default('Gate access control and visitor safety'),
        retentionDays: z.number().int().min(1).max(3650).default(30),
      })
      .prefault({}),
    timeouts: z
      .strictObject({
        scanSeconds: z.number().int().min(5).max(600).default(60),
        refusedSeconds: z.number().int().min(2).max(60).default(8),
        acceptedSeconds: z.number().int().min(2).max(60).default(6),
        privacySeconds: z.number().int().min(5).max(600).default(60),
        photoSeconds: z.number().int().min(1).max(60).default(5),
        /** Longest a pass check (verify, commit, gate) may take before the screen gives up. */
        verifyingSeconds: z.number().int().min(2).max(60).default(10),
        /** Longest the kiosk rings without a word from the server (it sets the ring time itself). */
        callingSeconds: z.number().int().min(5).max(300).default(45),
        callEndedSeconds: z.number().int().min(2).max(60).default(8),
        /** Long enough to note down the fallback's phone number. */
        callMissedSeconds: z.number().int().min(5).max(300).default(20),
        callOpenedSeconds: z.number().int().min(2).max(60).default(8),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    if (config.relay.kind === 'lcus' && !config.relay.port) {
      ctx.addIssue({
        code: 'custom',
        path: ['relay', 'port'],
        message: 'a real relay needs its serial port',
      });
    }
    // A port with the default kind would quietly run the simulator and never open the real gate.
    if (config.relay.kind === 'simulator' && config.relay.port) {
      ctx.addIssue({
        code: 'custom',
        path: ['relay', 'kind'],
        message: `is "simulator", so port ${config.relay.port} would be ignored: set kind to "lcus" for a real board`,
      });
    }
  });

export type KioskConfig = z.infer<typeof ConfigSchema>;

/** True when the configuration runs on simulated devices, which the screen must say plainly. */
export function isDemo(config: KioskConfig): boolean {
  return config.relay.kind === 'simulator';
}

/** The fallback in `locale`, else in another language the site wrote it in, else the default. */
export function callFallbackText(fallback: CallFallback | undefined, locale: Locale): string {
  if (fallback === undefined) return defaultCallFallback[locale];
  if (typeof fallback === 'string') return fallback;

  const others = locales.filter((other) => other !== locale);
  return (
    [locale, ...others].map((each) => fallback[each]).find(Boolean) ?? defaultCallFallback[locale]
  );
}

/** Validates a parsed configuration; the error message lists every wrong field by its path. */
export function parseConfig(raw: unknown, source = 'configuration'): KioskConfig {
  return parseWithSchema(ConfigSchema, raw, source);
}

/** Reads and validates a JSON configuration file. */
export function loadConfigFile(path: string): KioskConfig {
  return loadJsonConfig(path, parseConfig);
}
