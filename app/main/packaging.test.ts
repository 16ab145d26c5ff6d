import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FuseV1Options, FuseVersion, getCurrentFuseWire, type FuseConfig } from '@electron/fuses';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import type { Configuration } from 'electron-builder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface PackContext {
  appOutDir: string;
  electronPlatformName: string;
  packager: { appInfo: { productFilename: string }; executableName?: string };
}

interface FusesHook {
  afterPack(context: PackContext): Promise<void>;
  fuseConfig(platform: string): FuseConfig;
  electronBinaryPath(context: PackContext): string;
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const hook = createRequire(import.meta.url)(join(root, 'build', 'fuses.cjs')) as FusesHook;

// The marker Electron places before its fuse wire; see @electron/fuses.
const sentinel = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
// Electron's own defaults: run-as-node, NODE_OPTIONS, --inspect and file:// privileges on.
const stockWire = '10110001';

let config: Configuration;
let workDir: string;

beforeAll(async () => {
  config = await getConfig(root, join(root, 'electron-builder.yml'), null);
  workDir = mkdtempSync(join(tmpdir(), 'kiosk-fuses-'));
});

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function targetsOf(platform: 'linux' | 'win'): Array<{ target: string; arch: string[] }> {
  return (config[platform]?.target ?? []) as Array<{ target: string; arch: string[] }>;
}

function fakeElectronBinary(path: string): void {
  const wire = Buffer.concat([
    Buffer.from(sentinel),
    Buffer.from([1, stockWire.length]),
    Buffer.from(stockWire),
  ]);
  writeFileSync(path, Buffer.concat([Buffer.alloc(64, 0xcc), wire, Buffer.alloc(64, 0xcc)]));
}

describe('electron-builder configuration', () => {
  it('passes electron-builder’s own schema validation', async () => {
    await expect(
      validateConfiguration(config, { isEnabled: false, add: () => undefined } as never),
    ).resolves.toBeUndefined();
  });

  it('packs dist into an asar archive with native addons unpacked, into release/', () => {
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toContain('**/*.node');
    expect(config.directories?.output).toBe('release');
    expect(JSON.stringify(config.files)).toContain('dist/**/*');
  });

  it('builds AppImage and deb for x64 and arm64, and an NSIS installer for x64', () => {
    const linux = targetsOf('linux');

    for (const name of ['AppImage', 'deb']) {
      expect(linux.find((target) => target.target === name)?.arch.sort()).toEqual(['arm64', 'x64']);
    }
    expect(targetsOf('win')).toEqual([{ target: 'nsis', arch: ['x64'] }]);
  });

  it('runs the fuses hook after packing', () => {
    expect(config.afterPack).toBe('./build/fuses.cjs');
    expect(typeof hook.afterPack).toBe('function');
  });
});

describe('the fuses hook', () => {
  it('turns off run-as-node, NODE_OPTIONS and --inspect and turns on asar-only loading, integrity and cookie encryption', () => {
    expect(hook.fuseConfig('linux')).toMatchObject({
      version: FuseVersion.V1,
      strictlyRequireAllFuses: true,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      [FuseV1Options.EnableCookieEncryption]: true,
    });
  });

  it('finds the executable where electron-builder puts it on each platform', () => {
    const packager = { appInfo: { productFilename: 'Gate Kiosk' }, executableName: 'gate-kiosk' };

    expect(
      hook.electronBinaryPath({ appOutDir: '/out', electronPlatformName: 'linux', packager }),
    ).toBe(join('/out', 'gate-kiosk'));
    expect(
      hook.electronBinaryPath({ appOutDir: '/out', electronPlatformName: 'win32', packager }),
    ).toBe(join('/out', 'Gate Kiosk.exe'));
  });

  it('flips the fuse wire of a packed binary', async () => {
    const binary = join(workDir, 'gate-kiosk');
    fakeElectronBinary(binary);

    await hook.afterPack({
      appOutDir: workDir,
      electronPlatformName: 'linux',
      packager: { appInfo: { productFilename: 'Gate Kiosk' }, executableName: 'gate-kiosk' },
    });

    const wire = await getCurrentFuseWire(binary);
    const states = Array.from({ length: stockWire.length }, (_, index) =>
      String.fromCharCode(wire[index as FuseV1Options] as number),
    ).join('');
    expect(states).toBe('01001100');
    expect(
      readFileSync(binary)
        .subarray(0, 64)
        .every((byte) => byte === 0xcc),
    ).toBe(true);
  });
});
