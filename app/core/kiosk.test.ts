import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KioskError } from '../common/errors.js';
import type { KioskView, ScanReport } from '../contract/api.js';
import type { KioskConfig } from './config.js';
import { createKiosk, type Kiosk } from './kiosk.js';
import { generateSiteKeys, issuePass, type PassClaims, type SiteKeyPair } from './passes.js';
import type { KioskStore } from './ports.js';
import { FakeRelay } from './testing/fake-relay.js';
import { testConfig, waitForView } from './testing/kiosk-harness.js';

const nowSeconds = () => Math.floor(Date.now() / 1000);

let folder: string;
let keys: SiteKeyPair;
let relay: FakeRelay;
const kiosks: Kiosk[] = [];

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'kiosk-core-'));
  keys ??= await generateSiteKeys();
  relay = new FakeRelay();
});

afterEach(async () => {
  for (const kiosk of kiosks.splice(0)) await kiosk.close();
  await rm(folder, { recursive: true, force: true });
});

const configWith = (overrides: Record<string, unknown> = {}): KioskConfig =>
  testConfig(folder, keys, overrides);

async function start(
  config = configWith(),
  options: { store?: KioskStore; useRelay?: boolean } = {},
): Promise<Kiosk> {
  const kiosk = await createKiosk(config, {
    configDir: folder,
    relay: options.useRelay === false ? undefined : relay,
    store: options.store,
  });
  kiosks.push(kiosk);
  return kiosk;
}

function pass(claims: Partial<PassClaims> = {}, privateJwk = keys.privateJwk): Promise<string> {
  return issuePass(privateJwk, {
    passId: 'pass-0001',
    site: 'demo-site',
    gates: ['main-gate'],
    notBefore: nowSeconds() - 60,
    expires: nowSeconds() + 3600,
    entries: 2,
    hostUnit: '3-201',
    maskedName: '张*',
    ...claims,
  });
}

const scanOf = (text: string): ScanReport => ({
  text,
  bytesHex: '',
  charset: 'utf-8',
  source: 'camera',
});

async function scan(kiosk: Kiosk, text: string): Promise<KioskView> {
  await kiosk.handle('visitor:startScan', {});
  await kiosk.handle('scan:report', scanOf(text));
  return waitForView(kiosk, (view) => view.screen === 'accepted' || view.screen === 'refused');
}

describe('createKiosk', () => {
  it('drives the relay off at start by opening it, and shows the gate as available', async () => {
    const kiosk = await start();

    expect(relay.opens).toBe(1);
    expect(await kiosk.handle('view:get', {})).toMatchObject({
      screen: 'idle',
      locale: 'zh-CN',
      demo: false,
      gateName: 'Main gate',
      gateAvailable: true,
    });
  });

  it('refuses a production configuration without a store key, naming the field', async () => {
    const config = configWith({ storeKey: undefined });

    const attempt = createKiosk(config, { configDir: folder, relay });

    await expect(attempt).rejects.toThrow(KioskError);
    await expect(attempt).rejects.toThrow(/storeKey/);
  });

  it('keeps a demo store key in dataDir, owner-only, and reopens the store with it', async () => {
    const demo = configWith({ storeKey: undefined, relay: { kind: 'simulator' } });
    const first = await start(demo);
    await scan(first, await pass());
    await first.close();

    const keyFile = await stat(join(folder, 'store.key'));
    expect(keyFile.mode & 0o777).toBe(0o600);

    const second = await start(demo);
    expect(second.store.listVisits(10)).toHaveLength(1);
  });

  it('makes a demo site key once when no pass keys are configured, and accepts passes it signs', async () => {
    const demo = configWith({ passes: { publicKeys: [] }, relay: { kind: 'simulator' } });
    const first = await start(demo);
    const privateText = await readFile(join(folder, 'site-private.jwk.json'), 'utf8');
    await first.close();

    const kiosk = await start(demo);
    const demoKey = JSON.parse(privateText) as SiteKeyPair['privateJwk'];

    expect(await readFile(join(folder, 'site-private.jwk.json'), 'utf8')).toBe(privateText);
    expect((await stat(join(folder, 'site-private.jwk.json'))).mode & 0o777).toBe(0o600);
    expect(await scan(kiosk, await pass({}, demoKey))).toMatchObject({ screen: 'accepted' });
  });
});

describe('a kiosk handling scans', () => {
  it('opens the gate once for a valid pass, committing visit and audit before the pulse', async () => {
    const kiosk = await start();
    let committedAtPulse: unknown[] = [];
    relay.beforePulse = () => {
      committedAtPulse = [
        kiosk.store.listVisits(10),
        kiosk.store.listAudit(10).map((entry) => entry.action),
      ];
    };

    const view = await scan(kiosk, await pass());

    expect(view.accepted).toMatchObject({
      maskedName: '张*',
      hostUnit: '3-201',
      entriesLeft: 1,
      photoWanted: true,
    });
    expect(view.accepted?.gateOpenUntil).toBeGreaterThan(Date.now());
    expect(relay.pulses).toEqual([300]);
    expect(committedAtPulse[0]).toEqual([
      expect.objectContaining({
        id: view.accepted?.visitId,
        outcome: 'admitted',
        passId: 'pass-0001',
      }),
    ]);
    expect(committedAtPulse[1]).toContain('gate.open');
  });

  it('refuses an expired pass with a record and an audit line, and never pulses', async () => {
    const kiosk = await start();

    const view = await scan(
      kiosk,
      await pass({ notBefore: nowSeconds() - 7200, expires: nowSeconds() - 3600 }),
    );

    expect(view).toMatchObject({ screen: 'refused', refusal: 'expired', accepted: null });
    expect(relay.pulses).toEqual([]);
    expect(kiosk.store.listVisits(10)).toEqual([
      expect.objectContaining({ outcome: 'refused', refusal: 'expired', passId: 'pass-0001' }),
    ]);
    expect(kiosk.store.listAudit(10)).toContainEqual(
      expect.objectContaining({ action: 'pass.refused', actor: 'pass:pass-0001' }),
    );
  });

  it('refuses text that is not a pass', async () => {
    const kiosk = await start();

    expect(await scan(kiosk, 'https://example.com/menu')).toMatchObject({ refusal: 'not_a_pass' });
    expect(relay.pulses).toEqual([]);
    expect(kiosk.store.listVisits(10)).toEqual([expect.objectContaining({ passId: null })]);
  });

  it('refuses a pass whose entries are used up', async () => {
    const kiosk = await start();
    const text = await pass({ entries: 1 });
    expect(await scan(kiosk, text)).toMatchObject({
      screen: 'accepted',
      accepted: { entriesLeft: 0 },
    });

    // A fresh kiosk on the same store: the use was committed, not kept in memory.
    await kiosk.close();
    const again = await start();

    expect(await scan(again, text)).toMatchObject({ refusal: 'used_up' });
    expect(relay.pulses).toHaveLength(1);
  });

  it('refuses as used up when another entry wins the race to commit', async () => {
    const inner = (await start()).store;
    const racing = new Proxy(inner, {
      get: (target, property: keyof KioskStore) =>
        property === 'admitWithPass'
          ? () => false
          : (target[property] as () => unknown).bind(target),
    });
    const kiosk = await start(configWith(), { store: racing });

    expect(await scan(kiosk, await pass())).toMatchObject({ refusal: 'used_up' });
    expect(relay.pulses).toEqual([]);
  });

  it('refuses with gate_unavailable and keeps the record when the relay is not connected', async () => {
    relay.stateAfterOpen = 'disconnected';
    const kiosk = await start();

    const view = await scan(kiosk, await pass());

    expect(view).toMatchObject({ refusal: 'gate_unavailable', gateAvailable: false });
    expect(relay.pulses).toEqual([]);
    expect(kiosk.store.listVisits(10)).toEqual([
      expect.objectContaining({
        outcome: 'refused',
        refusal: 'gate_unavailable',
        passId: 'pass-0001',
      }),
    ]);
  });

  it('tells the visitor the gate may not have opened when the pulse fails after the commit', async () => {
    relay.failPulse = true;
    const kiosk = await start();
    await kiosk.handle('visitor:startScan', {});
    await kiosk.handle('scan:report', scanOf(await pass()));

    const view = await waitForView(kiosk, (candidate) => candidate.screen === 'refused');

    expect(view.refusal).toBe('gate_failed');
  });

  it('pushes the gate availability to the screen when the relay drops', async () => {
    const kiosk = await start();

    relay.setState('disconnected');

    expect(await waitForView(kiosk, (view) => !view.gateAvailable)).toMatchObject({
      gateAvailable: false,
    });
  });

  it('ignores a scan outside the scanning screen', async () => {
    const kiosk = await start();

    await kiosk.handle('scan:report', scanOf(await pass()));

    expect((await kiosk.handle('view:get', {})).screen).toBe('idle');
    expect(kiosk.store.listVisits(10)).toEqual([]);
  });
});

describe('a kiosk handling visitor commands', () => {
  it('attaches a JPEG to the current accepted visit only', async () => {
    const kiosk = await start();
    const view = await scan(kiosk, await pass());
    const visitId = view.accepted?.visitId ?? '';
    const jpegBase64 = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]).toString(
      'base64',
    );

    await kiosk.handle('photo:submit', { visitId: 'not-this-visit', jpegBase64 });
    expect(kiosk.store.getVisit(visitId)?.hasPhoto).toBe(false);

    await kiosk.handle('photo:submit', { visitId, jpegBase64 });
    expect(kiosk.store.getVisit(visitId)?.hasPhoto).toBe(true);
  });

  it('refuses a photo that is not a JPEG without throwing', async () => {
    const kiosk = await start();
    const view = await scan(kiosk, await pass());
    const visitId = view.accepted?.visitId ?? '';

    await expect(
      kiosk.handle('photo:submit', { visitId, jpegBase64: 'aGVsbG8=' }),
    ).resolves.toBeUndefined();

    expect(kiosk.store.getVisit(visitId)?.hasPhoto).toBe(false);
  });

  it('answers bad input without throwing and without changing the screen', async () => {
    const kiosk = await start();

    await expect(
      kiosk.handle('visitor:setLocale', { locale: 'fr' } as never),
    ).resolves.toBeUndefined();
    await expect(kiosk.handle('scan:report', { text: 5 } as never)).resolves.toBeUndefined();

    expect(await kiosk.handle('view:get', {})).toMatchObject({ screen: 'idle', locale: 'zh-CN' });
  });

  it('pushes a view on each change and resets the language when the visit returns to idle', async () => {
    const kiosk = await start();
    const seen: KioskView[] = [];
    kiosk.subscribe('view:changed', (view) => seen.push(view));

    await kiosk.handle('visitor:setLocale', { locale: 'en' });
    await kiosk.handle('visitor:startScan', {});
    await kiosk.handle('visitor:cancel', {});

    expect(seen.map((view) => [view.screen, view.locale])).toEqual([
      ['idle', 'en'],
      ['scanning', 'en'],
      ['idle', 'zh-CN'],
    ]);
  });

  it('shows the privacy notice from the configuration', async () => {
    const kiosk = await start(
      configWith({ privacy: { controller: 'North Park office', retentionDays: 14 } }),
    );

    await kiosk.handle('visitor:showPrivacy', {});

    expect(await kiosk.handle('view:get', {})).toMatchObject({
      screen: 'privacy',
      privacy: { controller: 'North Park office', retentionDays: 14 },
    });
  });

  it('leaves a relay it was given open and ignores commands once closed', async () => {
    const kiosk = await start();

    await kiosk.close();
    await kiosk.handle('visitor:startScan', {});

    expect(relay.closes).toBe(0);
  });
});

const hasSocat = spawnSync('socat', ['-V']).status === 0;

describe('a demo kiosk on the simulated relay', () => {
  it.skipIf(!hasSocat)('opens its simulated gate for a valid pass (needs socat)', async () => {
    const kiosk = await start(configWith({ relay: { kind: 'simulator', pulseMs: 200 } }), {
      useRelay: false,
    });

    expect(await waitForView(kiosk, (view) => view.gateAvailable)).toMatchObject({ demo: true });
    expect(await scan(kiosk, await pass())).toMatchObject({ screen: 'accepted' });
  });
});
