import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../common/errors.js';
import { configPathFrom, loadStartupConfig } from './config-source.js';

let dir: string;
let goodFile: string;
let badFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiosk-config-'));
  goodFile = join(dir, 'kiosk.json');
  badFile = join(dir, 'bad.json');
  writeFileSync(goodFile, JSON.stringify({ gate: 'north-gate', relay: { kind: 'simulator' } }));
  writeFileSync(badFile, JSON.stringify({ relay: { kind: 'lcus', pulseMs: 5 } }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('finding the configuration file', () => {
  it('takes --config from the command line over KIOSK_CONFIG', () => {
    expect(
      configPathFrom(['electron', '.', '--config', 'a.json'], { KIOSK_CONFIG: 'b.json' }),
    ).toBe('a.json');
    expect(configPathFrom(['kiosk', '--config=c.json'], { KIOSK_CONFIG: 'b.json' })).toBe('c.json');
  });

  it('falls back to KIOSK_CONFIG, then to none', () => {
    expect(configPathFrom(['electron', '.'], { KIOSK_CONFIG: 'b.json' })).toBe('b.json');
    expect(configPathFrom(['electron', '.'], { KIOSK_CONFIG: '' })).toBeUndefined();
    expect(configPathFrom(['electron', '.'], {})).toBeUndefined();
  });

  it('refuses --config without a file after it', () => {
    expect(() => configPathFrom(['electron', '.', '--config'], {})).toThrow(
      /--config needs a file path/,
    );
    expect(() => configPathFrom(['electron', '--config', '--inspect'], {})).toThrow(/--config/);
  });
});

describe('loading the start-up configuration', () => {
  it('gives the demo kiosk on simulated devices when no file is named', () => {
    const startup = loadStartupConfig(['electron', '.'], {});

    expect(startup.source).toBe('defaults');
    expect(startup.configDir).toBeUndefined();
    expect(startup.config.relay.kind).toBe('simulator');
  });

  it('reads the named file and takes relative paths from its folder', () => {
    const startup = loadStartupConfig(['electron', '.'], { KIOSK_CONFIG: goodFile });

    expect(startup.config.gate).toBe('north-gate');
    expect(startup.configDir).toBe(dir);
    expect(startup.source).toBe(goodFile);
  });

  it('refuses a bad file as a whole, naming each wrong field', () => {
    let caught: unknown;
    try {
      loadStartupConfig(['electron', '.', '--config', badFile], {});
    } catch (error) {
      caught = error;
    }

    expect(hasCode(caught, 'config_invalid')).toBe(true);
    expect((caught as Error).message).toMatch(/relay\.port/);
    expect((caught as Error).message).toMatch(/relay\.pulseMs/);
  });

  it('says which file it could not read', () => {
    const missing = join(dir, 'missing.json');

    expect(() => loadStartupConfig(['--config', missing], {})).toThrow(missing);
  });
});
