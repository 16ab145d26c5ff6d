import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServerConfigFile, parseServerConfig } from './config.js';

describe('server configuration', () => {
  it('defaults to loopback, 12 hour sessions and a 5 s hello', () => {
    const config = parseServerConfig({});

    expect(config.host).toBe('127.0.0.1');
    expect(config.sessionHours).toBe(12);
    expect(config.kiosks.helloSeconds).toBe(5);
    expect(config.kiosks.maxMessageBytes).toBe(64 * 1024);
  });

  it('names every wrong field in one error', () => {
    const parse = () =>
      parseServerConfig({ port: 70_000, kiosks: { heartbeatSeconds: 'often' }, colour: 'red' });

    expect(parse).toThrow(/port:/);
    expect(parse).toThrow(/kiosks\.heartbeatSeconds:/);
    expect(parse).toThrow(/colour/);
  });

  it('asks for the TURN secret when TURN urls are given', () => {
    expect(() => parseServerConfig({ ice: { turnUrls: ['turn:turn.example.org'] } })).toThrow(
      /ice\.turnSecret: TURN urls are set/,
    );
  });

  it('says which file is unreadable or not JSON', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'intercom-config-'));
    const file = join(folder, 'server.json');
    await writeFile(file, '{ port: 1 }');

    try {
      expect(() => loadServerConfigFile(file)).toThrow(/server\.json is not valid JSON/);
      expect(() => loadServerConfigFile(join(folder, 'missing.json'))).toThrow(/ENOENT/);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
