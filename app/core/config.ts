/**
 * The kiosk's one configuration file. Everything has a default that gives a demo kiosk on
 * simulated devices; a production file names real ports and real keys. A bad file is refused as
 * a whole with a message naming each wrong field, never half applied.
 */
import { z } from 'zod';
import { LocaleSchema, locales, type Locale } from '../contract/api.js';
import { kioskIdSchema } from '../contract/intercom-protocol.js';
import { loadJsonConfig, parseWithSchema } from './config-file.js';
import { HidIdSchema, idCardConfig, scannerConfig } from './device-config.js';

const lcusMaxChannel = 8;
const modbusMaxChannel = 32;

const modbusAddressFormat = 'must be 1..247 (the Modbus range), or 255 as some boards ship';
const onValueFormat = 'must be "FF00" or "0100", the on value the board’s manual gives';

/** How a Modbus RTU board is addressed and pulsed; only with kind `modbus`. */
const ModbusSchema = z.strictObject({
  /** Slave address: 1 on most boards, 255 on some. */
  address: z
    .number(modbusAddressFormat)
    .int(modbusAddressFormat)
    .refine((address) => (address >= 1 && address <= 247) || address === 255, modbusAddressFormat)
    .default(1),
  /** The coil of the first relay: 0 on most boards, 1 on some generic ones. */
  coilBase: z
    .union([z.literal(0), z.literal(1)], {
      error: 'must be 0 (the first relay is coil 0) or 1 (it is coil 1)',
    })
    .default(0),
  /** The coil value meaning on: FF 00 by the standard, 01 00 on some generic boards. */
  onValue: z
    .string(onValueFormat)
    .transform((value) => value.replace(/\s+/g, '').toUpperCase())
    .pipe(z.enum(['FF00', '0100'], { error: onValueFormat }))
    .default('FF00'),
  /** Pulse with the board's flash coils (Waveshare), which end a pulse even if the kiosk dies. */
  flash: z.boolean().default(false),
  /** How long the board may take to echo a request. */
  echoTimeoutMs: z.number().int().min(20).max(5_000).default(500),
});

const RelaySchema = z.strictObject({
  /**
   * `simulator` runs the LCUS simulator on a pseudo-terminal pair; `lcus` opens a real LCUS
   * board's port, `modbus` a Modbus RTU board's.
   */
  kind: z.enum(['simulator', 'lcus', 'modbus']).default('simulator'),
  /** Serial port path, e.g. /dev/ttyUSB0 or COM3. Required for `lcus` and `modbus`. */
  port: z.string().min(1).optional(),
  baudRate: z.number().int().positive().default(9600),
  /** The relay wired to the barrier, counted from 1 as printed on the board. */
  channel: z.number().int().min(1).max(modbusMaxChannel).default(1),
  /** Relays on the board, all driven off at start; left out, only `channel` is. */
  boardChannels: z.number().int().min(1).max(modbusMaxChannel).optional(),
  /** Some boards are wired so that "off" closes the contact. */
  invert: z.boolean().default(false),
  pulseMs: z.number().int().min(100).max(10_000).default(1000),
  modbus: ModbusSchema.optional(),
});

type RelayConfig = z.infer<typeof RelaySchema>;

/** One problem with settings that do not go together: where, and what to do about it. */
interface ConfigIssue {
  path: string[];
  message: string;
}

/** The relay settings that are each valid but do not go together. */
function relayIssues(relay: RelayConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string[], message: string): void => {
    issues.push({ path: ['relay', ...path], message });
  };

  if (relay.kind !== 'simulator' && !relay.port)
    add(['port'], 'a real relay needs its serial port');
  // A port with the default kind would quietly run the simulator and never open the real gate.
  if (relay.kind === 'simulator' && relay.port) {
    add(
      ['kind'],
      `is "simulator", so port ${relay.port} would be ignored: set kind to "lcus" or "modbus" for a real board`,
    );
  }

  if (relay.kind !== 'modbus' && relay.channel > lcusMaxChannel)
    add(['channel'], `LCUS boards have at most ${lcusMaxChannel} channels`);
  if (relay.boardChannels !== undefined && relay.boardChannels < relay.channel)
    add(['boardChannels'], `must include the channel (${relay.channel})`);
  if (relay.modbus && relay.kind !== 'modbus')
    add(['modbus'], `applies only to kind "modbus", not "${relay.kind}"`);

  return [...issues, ...flashIssues(relay)];
}

function flashIssues(relay: RelayConfig): ConfigIssue[] {
  if (relay.kind !== 'modbus' || !relay.modbus?.flash) return [];

  const issues: ConfigIssue[] = [];
  // A flash energises the coil for a time; on an inverted board it would open the contact.
  if (relay.invert) {
    issues.push({
      path: ['relay', 'modbus', 'flash'],
      message: 'flash pulses energise the coil, so they cannot drive an inverted board',
    });
  }

  if (relay.pulseMs % 100 !== 0) {
    issues.push({
      path: ['relay', 'pulseMs'],
      message: 'must be a multiple of 100 with flash pulses: the board counts in 100 ms',
    });
  }

  return issues;
}

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
    /** Lets `url` be ws:// to another machine: only on a network nobody else can reach. */
    allowUnencrypted: z.boolean().default(false),
  })
  .refine((intercom) => intercom.reconnectMinMs <= intercom.reconnectMaxMs, {
    path: ['reconnectMaxMs'],
    message: 'must not be below reconnectMinMs',
  });

type IntercomConfig = z.infer<typeof IntercomSchema>;

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
    /** Barcode and QR scanners besides the camera: serial, USB HID-POS, keyboard wedge. */
    scanner: scannerConfig,
    /** The ID card reader (SAM module on a serial port), if the kiosk has one. */
    idCard: idCardConfig,
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
    for (const issue of relayIssues(config.relay)) ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of intercomIssues(config.intercom, config.timeouts.callOpenedSeconds))
      ctx.addIssue({ code: 'custom', ...issue });
  });

export type KioskConfig = z.infer<typeof ConfigSchema>;

/** The intercom settings that are each valid but do not go with the rest. */
function intercomIssues(
  intercom: IntercomConfig | undefined,
  callOpenedSeconds: number,
): ConfigIssue[] {
  if (!intercom) return [];

  const issues: ConfigIssue[] = [];
  // The open command travels on this connection: in clear text, anyone on the path could send one.
  const url = new URL(intercom.url);
  if (url.protocol === 'ws:' && !isLoopback(url.hostname) && !intercom.allowUnencrypted) {
    issues.push({
      path: ['intercom', 'url'],
      message:
        'is ws:// to another machine, so anyone on the network could read the call and send the ' +
        'gate an open command: use wss:// (the server behind an HTTPS proxy), or set ' +
        'intercom.allowUnencrypted to true on a network only the property controls',
    });
  }

  if (intercom.hangUpAfterOpenSeconds > callOpenedSeconds) {
    issues.push({
      path: ['intercom', 'hangUpAfterOpenSeconds'],
      message:
        `is ${intercom.hangUpAfterOpenSeconds} s, but the "gate opened" screen ends the call after ` +
        `timeouts.callOpenedSeconds (${callOpenedSeconds} s): raise that as well`,
    });
  }

  return issues;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

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
