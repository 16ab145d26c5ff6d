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
