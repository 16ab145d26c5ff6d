import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KioskError } from '../common/errors.js';
import {
  callFallbackText,
  defaultCallFallback,
  isDemo,
  loadConfigFile,
  parseConfig,
} from './config.js';

let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'kiosk-config-'));
});

afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function fileWith(text: string): Promise<string> {
  const path = join(folder, 'kiosk.json');
  await writeFile(path, text);
  return path;
}

function errorOf(action: () => unknown): KioskError {
  try {
    action();
  } catch (error) {
    if (error instanceof KioskError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('the kiosk configuration', () => {
  it('gives a demo kiosk on simulated devices when the file is empty', () => {
    const config = parseConfig({});

    expect(isDemo(config)).toBe(true);
    expect(config.defaultLocale).toBe('zh-CN');
    expect(config.relay).toMatchObject({ kind: 'simulator', channel: 1, pulseMs: 1000 });
  });

  it('names every field with a wrong type and what is wrong with it', () => {
    const error = errorOf(() =>
      parseConfig({ gate: 7, relay: { pulseMs: 'long', channel: 0 }, defaultLocale: 'fr' }),
    );

    expect(error.code).toBe('config_invalid');
    expect(error.message).toMatch(/^ {2}gate: .*expected string/m);
    expect(error.message).toMatch(/^ {2}relay\.pulseMs: .*expected number/m);
    expect(error.message).toMatch(/^ {2}relay\.channel: /m);
    expect(error.message).toMatch(/^ {2}defaultLocale: /m);
  });

  it('refuses a field it does not know, so a misspelt setting is not silently ignored', () => {
    const error = errorOf(() => parseConfig({ relay: { pulseMS: 500 } }));

    expect(error.message).toMatch(/relay: .*pulseMS/);
  });

  it('requires a serial port for a real relay board', () => {
    const error = errorOf(() => parseConfig({ relay: { kind: 'lcus' } }));

    expect(error.message).toMatch(/relay\.port: a real relay needs its serial port/);
  });

  it('refuses a real port given without the real relay kind, instead of running the simulator', () => {
    const error = errorOf(() => parseConfig({ relay: { port: '/dev/ttyUSB0' } }));

    expect(error.message).toMatch(/relay\.kind: .*\/dev\/ttyUSB0 would be ignored/);
  });

  it('reads a Modbus board with its addressing, filling in what is left out', () => {
    const config = parseConfig({
      relay: {
        kind: 'modbus',
        port: '/dev/ttyUSB0',
        channel: 12,
        boardChannels: 16,
        modbus: { address: 255, coilBase: 1, onValue: '01 00' },
      },
    });

    expect(isDemo(config)).toBe(false);
    expect(config.relay).toMatchObject({ kind: 'modbus', channel: 12, boardChannels: 16 });
    expect(config.relay.modbus).toEqual({
      address: 255,
      coilBase: 1,
      onValue: '0100',
      flash: false,
      echoTimeoutMs: 500,
    });
  });

  it('names each Modbus setting that is wrong and says what it may be', () => {
    const error = errorOf(() =>
      parseConfig({
        relay: {
          kind: 'modbus',
          port: '/dev/ttyUSB0',
          modbus: { address: 250, coilBase: 2, onValue: 'FFFF' },
        },
      }),
    );

    expect(error.message).toMatch(/relay\.modbus\.address: must be 1\.\.247 .*or 255/);
    expect(error.message).toMatch(/relay\.modbus\.coilBase: must be 0 .* or 1/);
    expect(error.message).toMatch(/relay\.modbus\.onValue: must be "FF00" or "0100"/);
  });

  it('requires a serial port for a Modbus board too', () => {
    const error = errorOf(() => parseConfig({ relay: { kind: 'modbus' } }));

    expect(error.message).toMatch(/relay\.port: a real relay needs its serial port/);
  });

  it('refuses flash pulses on an inverted board, and pulse lengths the board cannot count', () => {
    const error = errorOf(() =>
      parseConfig({
        relay: {
          kind: 'modbus',
          port: '/dev/ttyUSB0',
          invert: true,
          pulseMs: 750,
          modbus: { flash: true },
        },
      }),
    );

    expect(error.message).toMatch(/relay\.modbus\.flash: .*cannot drive an inverted board/);
    expect(error.message).toMatch(/relay\.pulseMs: must be a multiple of 100/);
  });

  it('refuses Modbus settings on another kind of relay, and LCUS channels past 8', () => {
    const error = errorOf(() =>
      parseConfig({
        relay: { kind: 'lcus', port: '/dev/ttyUSB0', channel: 9, modbus: { address: 2 } },
      }),
    );

    expect(error.message).toMatch(/relay\.modbus: applies only to kind "modbus"/);
    expect(error.message).toMatch(/relay\.channel: LCUS boards have at most 8 channels/);
  });

  it('refuses a board channel count that leaves out the barrier channel', () => {
    const error = errorOf(() =>
      parseConfig({
        relay: { kind: 'modbus', port: '/dev/ttyUSB0', channel: 5, boardChannels: 4 },
      }),
    );

    expect(error.message).toMatch(/relay\.boardChannels: must include the channel \(5\)/);
  });

  it('refuses a file that is not JSON, naming the file', async () => {
    const path = await fileWith('{ "gate": "north", }');

    const error = errorOf(() => loadConfigFile(path));

    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain(path);
  });

  it('refuses a file it cannot read with its own code', () => {
    const error = errorOf(() => loadConfigFile(join(folder, 'missing.json')));

    expect(error.code).toBe('config_unreadable');
    expect(error.message).toContain(`${join(folder, 'missing.json')} (ENOENT)`);
  });

  it('reads a production file that names a real port', async () => {
    const path = await fileWith(
      JSON.stringify({
        gate: 'north',
        storeKey: 'k'.repeat(32),
        relay: { kind: 'lcus', port: '/dev/ttyUSB0', invert: true },
      }),
    );

    const config = loadConfigFile(path);

    expect(isDemo(config)).toBe(false);
    expect(config.relay).toMatchObject({ port: '/dev/ttyUSB0', invert: true, pulseMs: 1000 });
  });

  it('has no physical call button by default, and a fallback for when no guard answers', () => {
    const config = parseConfig({});

    expect(config.callButton).toEqual({ key: null, debounceMs: 300 });
    expect(config.timeouts).toMatchObject({
      callingSeconds: 45,
      callEndedSeconds: 8,
      callMissedSeconds: 20,
      callOpenedSeconds: 8,
    });
  });

  it('reads a HID call button with ids as numbers or hex strings', () => {
    const config = parseConfig({
      callButton: {
        key: 'F13',
        hid: { vendorId: '0x1A2B', productId: 15437, reportByte: 1, mask: 4 },
      },
    });

    expect(config.callButton).toEqual({
      key: 'F13',
      debounceMs: 300,
      hid: { vendorId: 0x1a2b, productId: 15437, reportByte: 1, mask: 4 },
    });
  });

  it('names a wrong call button setting', () => {
    const error = errorOf(() =>
      parseConfig({
        callButton: {
          key: 'F 13',
          hid: { vendorId: '1a2b', productId: 0x10000, reportByte: 0, mask: 0 },
        },
      }),
    );

    expect(error.message).toMatch(/^ {2}callButton\.key: /m);
    expect(error.message).toMatch(/^ {2}callButton\.hid\.vendorId: /m);
    expect(error.message).toMatch(/^ {2}callButton\.hid\.productId: /m);
    expect(error.message).toMatch(/^ {2}callButton\.hid\.mask: /m);
  });

  it('accepts only KeyboardEvent.code values as the call key, and says which ones', () => {
    for (const key of ['F9', 'F24', 'KeyB', 'Digit0', 'Numpad5', 'NumpadEnter', 'Space', 'ArrowUp'])
      expect(parseConfig({ callButton: { key } }).callButton.key).toBe(key);

    for (const key of ['Fnine', 'F25', 'Keyb', 'b', 'ShiftLeft', 'F13 ']) {
      const error = errorOf(() => parseConfig({ callButton: { key } }));
      expect(error.message).toMatch(
        /callButton\.key: must be a KeyboardEvent\.code: KeyA-KeyZ.*"F9"/,
      );
    }
  });

  it('says which format a HID vendor or product id takes', () => {
    const hid = { productId: 1, reportByte: 0, mask: 1 };

    for (const vendorId of ['zz', '1a2b', 70_000, -1, 1.5, null]) {
      const error = errorOf(() => parseConfig({ callButton: { hid: { ...hid, vendorId } } }));
      expect(error.message).toContain(
        'callButton.hid.vendorId: must be a number 0-65535 or a hex string like 0x1a2b',
      );
    }
  });

  it('takes the fallback and the hang-up delay from the intercom settings', () => {
    const intercom = {
      url: 'wss://intercom.example/kiosk',
      kioskId: 'north-1',
      secret: 's3cret',
      fallback: 'Call the office: 010-1234 5678',
      hangUpAfterOpenSeconds: 3,
    };

    expect(parseConfig({ intercom }).intercom).toMatchObject({
      fallback: 'Call the office: 010-1234 5678',
      hangUpAfterOpenSeconds: 3,
    });
    expect(
      parseConfig({ intercom: { ...intercom, fallback: undefined } }).intercom?.fallback,
    ).toEqual(defaultCallFallback);
  });

  it('takes a fallback per language, and refuses one without any text', () => {
    const intercom = { url: 'wss://intercom.example/kiosk', kioskId: 'north-1', secret: 's3cret' };
    const fallback = { 'zh-CN': '请致电 010-1234 5678', en: 'Please call 010-1234 5678' };

    expect(parseConfig({ intercom: { ...intercom, fallback } }).intercom?.fallback).toEqual(
      fallback,
    );
    for (const bad of [{}, { de: 'Bitte anrufen' }, 42, ''])
      expect(() => parseConfig({ intercom: { ...intercom, fallback: bad } })).toThrow(
        /intercom\.fallback: /,
      );
  });
});

describe('the intercom connection settings', () => {
  const intercom = { kioskId: 'north-1', secret: 's3cret' };

  it('refuses ws:// to another machine unless the site says its network is its own', () => {
    const url = 'ws://192.0.2.10:8780/kiosk';

    expect(errorOf(() => parseConfig({ intercom: { ...intercom, url } })).message).toMatch(
      /intercom\.url: is ws:\/\/ to another machine.*use wss:\/\//,
    );
    expect(
      parseConfig({ intercom: { ...intercom, url, allowUnencrypted: true } }).intercom?.url,
    ).toBe(url);
    for (const local of ['ws://127.0.0.1:8780/kiosk', 'ws://localhost/kiosk', 'ws://[::1]/kiosk'])
      expect(parseConfig({ intercom: { ...intercom, url: local } }).intercom?.url).toBe(local);
    expect(
      parseConfig({ intercom: { ...intercom, url: 'wss://intercom.example/kiosk' } }).intercom,
    ).toBeDefined();
  });

  it('refuses a hang-up delay the opened screen would cut short, naming both settings', () => {
    const settings = { ...intercom, url: 'wss://intercom.example/kiosk' };

    const error = errorOf(() =>
      parseConfig({ intercom: { ...settings, hangUpAfterOpenSeconds: 20 } }),
    );
    expect(error.message).toMatch(
      /intercom\.hangUpAfterOpenSeconds: is 20 s.*timeouts\.callOpenedSeconds \(8 s\)/,
    );
    expect(
      parseConfig({
        intercom: { ...settings, hangUpAfterOpenSeconds: 20 },
        timeouts: { callOpenedSeconds: 25 },
      }).intercom?.hangUpAfterOpenSeconds,
    ).toBe(20);
  });
});

describe('the entry device settings', () => {
  it('has a keyboard-wedge scanner and no serial, HID-POS or ID card device by default', () => {
    const config = parseConfig({});

    expect(config.scanner).toEqual({
      keyboard: { enabled: true, burstGapMs: 10, humanGapMs: 30, minLength: 4 },
    });
    expect(config.idCard).toBeUndefined();
  });

  it('reads serial and HID-POS scanners and an ID card reader, filling in their defaults', () => {
    const config = parseConfig({
      scanner: {
        serial: { port: '/dev/ttyACM0', suffix: 'CRLF' },
        hidPos: { vendorId: '0x0C2E', productId: 2913, layout: 'honeywell' },
        keyboard: { enabled: false },
      },
      idCard: { port: '/dev/ttyUSB1', baudRate: 9600 },
    });

    expect(config.scanner.serial).toEqual({ port: '/dev/ttyACM0', baudRate: 9600, suffix: 'CRLF' });
    expect(config.scanner.hidPos).toEqual({
      vendorId: 0x0c2e,
      productId: 2913,
      layout: 'honeywell',
    });
    expect(config.scanner.keyboard.enabled).toBe(false);
    expect(config.idCard).toEqual({
      port: '/dev/ttyUSB1',
      baudRate: 9600,
      pollIntervalMs: 300,
      withFingerprint: false,
    });
  });

  it('names each wrong device setting and what it may be', () => {
    const error = errorOf(() =>
      parseConfig({
        scanner: {
          serial: { port: '/dev/ttyACM0', suffix: 'CR+LF', baudRate: 9601 },
          hidPos: { vendorId: 'usb', productId: 1, layout: 'zebra' },
          keyboard: { burstGapMs: 50, humanGapMs: 20 },
        },
        idCard: { baudRate: 115200 },
      }),
    );

    expect(error.message).toMatch(/^ {2}scanner\.serial\.suffix: /m);
    expect(error.message).toMatch(/^ {2}scanner\.serial\.baudRate: must be one of .*9600/m);
    expect(error.message).toMatch(/^ {2}scanner\.hidPos\.vendorId: must be a number 0-65535/m);
    expect(error.message).toMatch(/^ {2}scanner\.hidPos\.layout: /m);
    expect(error.message).toMatch(/^ {2}scanner\.keyboard\.humanGapMs: must not be below/m);
    expect(error.message).toMatch(/^ {2}idCard\.port: is required \(string\)$/m);
  });
});

describe('the call fallback text', () => {
  it('is the one text in every language when the site wrote one', () => {
    expect(callFallbackText('Ring 010-1234', 'zh-CN')).toBe('Ring 010-1234');
    expect(callFallbackText('Ring 010-1234', 'en')).toBe('Ring 010-1234');
  });

  it("is the visitor's language's text, else the other language's", () => {
    const both = { 'zh-CN': '请致电物业', en: 'Please call the office' };

    expect(callFallbackText(both, 'zh-CN')).toBe('请致电物业');
    expect(callFallbackText(both, 'en')).toBe('Please call the office');
    expect(callFallbackText({ en: 'Please call the office' }, 'zh-CN')).toBe(
      'Please call the office',
    );
    expect(callFallbackText({ 'zh-CN': '请致电物业' }, 'en')).toBe('请致电物业');
  });

  it("is the default in the visitor's language without an intercom setting", () => {
    expect(callFallbackText(undefined, 'zh-CN')).toBe(defaultCallFallback['zh-CN']);
    expect(callFallbackText(undefined, 'en')).toBe(defaultCallFallback.en);
  });
});
