import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServerConfigFile, parseServerConfig } from './config.js';

describe('server configuration', () => {
  it('defaults to loopback, 12 hour sessions, a 5 s hello and room for a call with a photo', () => {
    const config = parseServerConfig({});

    expect(config.host).toBe('127.0.0.1');
    expect(config.sessionHours).toBe(12);
    expect(config.kiosks.helloSeconds).toBe(5);
    expect(config.kiosks.maxMessageBytes).toBe(128 * 1024);
  });

  it('names every wrong field in one error', () => {
    const parse = () =>
      parseServerConfig({ port: 70_000, kiosks: { heartbeatSeconds: 'often' }, colour: 'red' });

    expect(parse).toThrow(/port:/);
    expect(parse).toThrow(/kiosks\.heartbeatSeconds:/);
    expect(parse).toThrow(/colour/);
  });

  it('trusts no proxy and allows an address many more failed logins than a name by default', () => {
    const config = parseServerConfig({});

    expect(config.trustProxy).toBe(false);
    expect(config.loginThrottle.freeFailures).toBe(5);
    expect(config.loginThrottle.freeFailuresPerAddress).toBe(50);
    expect(config.loginThrottle.freeFailuresPerName).toBe(50);
  });

  it('takes trusted proxies as true, a hop count or addresses and ranges, and refuses others', () => {
    for (const trustProxy of [true, 1, ['loopback', '10.0.0.0/8', '192.0.2.10', '::1']]) {
      expect(parseServerConfig({ trustProxy }).trustProxy).toEqual(trustProxy);
    }

    expect(() => parseServerConfig({ trustProxy: ['proxy.example.org'] })).toThrow(/trustProxy/);
    expect(() => parseServerConfig({ trustProxy: 0 })).toThrow(/trustProxy/);
    expect(() => parseServerConfig({ trustProxy: '10.0.0.1' })).toThrow(/trustProxy/);
  });

  it('asks for the TURN secret when TURN urls are given', () => {
    expect(() => parseServerConfig({ ice: { turnUrls: ['turn:turn.example.org'] } })).toThrow(
      /ice\.turnSecret: TURN urls are set/,
    );
  });

  it('defaults to a 30 s ring, 3 minute calls warned 10 s before the end, and any ICE route', () => {
    const config = parseServerConfig({});

    expect(config.calls).toEqual({
      ringTimeoutSeconds: 30,
      maxCallSeconds: 180,
      warnBeforeEndSeconds: 10,
    });
    expect(config.ice.transportPolicy).toBe('all');
    expect(config.passes).toBeUndefined();
  });

  it('refuses a warning that would come after the call already ended', () => {
    expect(() =>
      parseServerConfig({ calls: { maxCallSeconds: 60, warnBeforeEndSeconds: 60 } }),
    ).toThrow(/calls\.warnBeforeEndSeconds: the warning must come before/);
  });

  it('asks for TURN urls when every call must go through a relay', () => {
    expect(() => parseServerConfig({ ice: { transportPolicy: 'relay' } })).toThrow(
      /ice\.transportPolicy: relay sends every packet through TURN/,
    );
    expect(
      parseServerConfig({
        ice: {
          transportPolicy: 'relay',
          turnUrls: ['turn:127.0.0.1:3478'],
          turnSecret: 'sixteen chars or more',
        },
      }).ice.transportPolicy,
    ).toBe('relay');
  });

  it('needs a site and key file for pass issuing and defaults its gates to the demo kiosk’s', () => {
    expect(() => parseServerConfig({ passes: { site: 'riverside' } })).toThrow(
      /passes\.privateKeyFile/,
    );
    expect(
      parseServerConfig({ passes: { site: 'riverside', privateKeyFile: 'keys/site.jwk.json' } })
        .passes,
    ).toEqual({ site: 'riverside', privateKeyFile: 'keys/site.jwk.json', gates: ['main-gate'] });
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
