/**
 * The configuration of the kiosk's entry devices besides the relay and the call button: barcode
 * and QR scanners of each kind, and the ID card reader. Part of the one configuration file
 * (config.ts); kept apart so each device's settings read as one block.
 */
import { z } from 'zod';

const hidIdFormat = 'must be a number 0-65535 or a hex string like 0x1a2b';

/** A USB HID value: a number, or a hex string such as `0x1a2b` as device lists print it. */
export const HidIdSchema = z.union(
  [
    z.number().int(hidIdFormat).min(0, hidIdFormat).max(0xffff, hidIdFormat),
    z
      .string()
      .regex(/^0x[0-9a-f]{1,4}$/i, hidIdFormat)
      .transform((hex) => Number.parseInt(hex, 16)),
  ],
  { error: hidIdFormat },
);

const baudRates = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400] as const;
const baudRateFormat = `must be one of ${baudRates.join(', ')}`;
const BaudRateSchema = z
  .number(baudRateFormat)
  .refine((rate) => (baudRates as readonly number[]).includes(rate), baudRateFormat);

const ScannerSchema = z.strictObject({
  /** A scanner on a serial port (or USB-serial), sending each code with a suffix. */
  serial: z
    .strictObject({
      port: z.string().min(1),
      baudRate: BaudRateSchema.default(9600),
      /** What the scanner sends after each code, as set in its manual's setup codes. */
      suffix: z.enum(['CR', 'LF', 'CRLF', 'Tab']).default('CR'),
    })
    .optional(),
  /** A scanner in USB HID-POS mode (usage page 8C), read through node-hid. */
  hidPos: z
    .strictObject({
      vendorId: HidIdSchema,
      productId: HidIdSchema,
      /** Whose report layout it sends (HARDWARE.md): Newland's or Honeywell's. */
      layout: z.enum(['newland', 'honeywell']).default('newland'),
      /** The hidraw path, for a kiosk with two devices of the same vendor and product. */
      path: z.string().min(1).optional(),
    })
    .optional(),
  /**
   * A scanner that types its codes as a keyboard. The page tells its bursts from a person by key
   * timing; `enabled: false` when nobody may type codes into the kiosk window.
   */
  keyboard: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** A scanner's keys come at most this far apart on average. */
      burstGapMs: z.number().positive().max(100).default(10),
      /** Keys further apart than this are a person typing. */
      humanGapMs: z.number().positive().max(1000).default(30),
      /** Shorter bursts are never codes: fast typists roll two or three keys. */
      minLength: z.number().int().min(2).max(100).default(4),
    })
    .refine((keyboard) => keyboard.humanGapMs >= keyboard.burstGapMs, {
      path: ['humanGapMs'],
      message: 'must not be below burstGapMs',
    })
    .prefault({}),
});

const IdCardSchema = z.strictObject({
  /** The reader's serial port (or USB-serial), e.g. /dev/ttyUSB1. */
  port: z.string().min(1),
  /** 115200 on most readers; some use 9600 or 38400. */
  baudRate: BaudRateSchema.default(115200),
  /** Pause between two looks for a card. */
  pollIntervalMs: z.number().int().min(50).max(5_000).default(300),
  /** Readers whose SAM answers only the read with fingerprint (30 10). */
  withFingerprint: z.boolean().default(false),
});

/** The scanners part of the configuration. */
export const scannerConfig = ScannerSchema.prefault({});
export type ScannerConfig = z.infer<typeof ScannerSchema>;

/** The ID card reader part of the configuration; absent when the kiosk has none. */
export const idCardConfig = IdCardSchema.optional();
export type IdCardConfig = z.infer<typeof IdCardSchema>;
