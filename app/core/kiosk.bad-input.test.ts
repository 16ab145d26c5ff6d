import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePayload } from '../common/charset.js';
import { parseCommandInput, type KioskView, type ScanReport } from '../contract/api.js';
import { parseConfig } from './config.js';
import { createKiosk, type Kiosk } from './kiosk.js';
import { generateSiteKeys, issuePass, type SiteKeyPair } from './passes.js';
import { FakeRelay } from './testing/fake-relay.js';
import { randomBytes, seededRandom } from '../../test/support/random.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** A scan as the camera would report it: the text decoded from the bytes, the bytes kept. */
function scanFromBytes(bytes: Uint8Array): ScanReport {
  const { text, charset } = decodePayload(bytes, null);
  return { text, bytesHex: hex(bytes), charset, source: 'camera' };
}

const scanOfText = (text: string): ScanReport => ({
  text,
  bytesHex: hex(new TextEncoder().encode(text)),
  charset: 'UTF-8',
  source: 'scanner',
});

let folder: string;
let keys: SiteKeyPair;
let otherKeys: SiteKeyPair;
let relay: FakeRelay;
let kiosk: Kiosk;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'kiosk-bad-input-'));
  keys = await generateSiteKeys();
  otherKeys = await generateSiteKeys();
  relay = new FakeRelay();

  const config = parseConfig({
    dataDir: folder,
    storeKey: 'bad-input-store-key-0123456789',
    passes: { publicKeys: [keys.publicJwk] },
    relay: { kind: 'lcus', port: '/dev/ttyFAKE0' },
  });
  kiosk = await createKiosk(config, { configDir: folder, relay });
});

afterAll(async () => {
  await kiosk.close();
  await rm(folder, { recursive: true, force: true });
});

function nextOutcome(): Promise<KioskView> {
  return new Promise((resolve) => {
    const off = kiosk.subscribe('view:changed', (view) => {
      if (view.screen !== 'accepted' && view.screen !== 'refused') return;

      off();
      resolve(view);
    });
  });
}

/** Sends one scan the way a transport does: schema check first, then the core. */
async function offer(scan: ScanReport): Promise<KioskView> {
  await kiosk.handle('visitor:startScan', {});
  const outcome = nextOutcome();
  await kiosk.handle('scan:report', parseCommandInput('scan:report', scan));
  return outcome;
}

function validClaims(passId: string) {
  const now = Math.floor(Date.now() / 1000);
  return {
    passId,
    site: 'demo-site',
    gates: ['main-gate'],
    notBefore: now - 60,
    expires: now + 3600,
    entries: 1,
    hostUnit: '1-101',
    maskedName: '李*',
  };
}

describe('the kiosk given bad input', () => {
  it('refuses 300 random byte strings as not a pass, opens nothing and keeps a record of each', async () => {
    const random = seededRandom(2026);
    const visitsBefore = kiosk.store.listVisits(10_000).length;

    for (let round = 0; round < 300; round += 1) {
      const bytes = randomBytes(random, 1 + Math.floor(random() * 300));
      const view = await offer(scanFromBytes(bytes));

      expect(view.screen, `round ${round}: ${hex(bytes)}`).toBe('refused');
      expect(view.refusal).toBe('not_a_pass');
    }

    expect(relay.pulses).toEqual([]);
    expect(kiosk.store.listVisits(10_000).length - visitsBefore).toBe(300);
  });

  it('refuses 4 KB texts, invalid UTF-8, lone surrogates and GBK text without opening', async () => {
    const gbk = Uint8Array.from([0xc4, 0xe3, 0xba, 0xc3, 0xca, 0xc0, 0xbd, 0xe7]);
    const invalidUtf8 = Uint8Array.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0x41]);
    const scans = [
      scanOfText('A'.repeat(4096)),
      scanOfText(`${'e'.repeat(1365)}.${'f'.repeat(1365)}.${'g'.repeat(1364)}`),
      scanOfText('\ud800\udfff\udc00 not a pass \ud83d'),
      scanFromBytes(gbk),
      scanFromBytes(invalidUtf8),
      scanOfText('你好世界'.repeat(256)),
    ];

    for (const scan of scans) {
      const view = await offer(scan);

      expect(view.screen).toBe('refused');
      expect(view.refusal).toBe('not_a_pass');
    }

    expect(relay.pulses).toEqual([]);
  });

  it('refuses a pass signed by another key and a pass with an edited payload as forged', async () => {
    const foreign = await issuePass(otherKeys.privateJwk, validClaims('foreign-1'));
    const genuine = await issuePass(keys.privateJwk, validClaims('edited-1'));
    const [header, , signature] = genuine.split('.');
    const payload = Buffer.from(JSON.stringify({ ...validClaims('edited-1'), entries: 99 }));
    const edited = `${header}.${payload.toString('base64url')}.${signature}`;

    for (const text of [foreign, edited]) {
      const view = await offer(scanOfText(text));

      expect(view.screen).toBe('refused');
      expect(view.refusal).toBe('forged');
    }

    expect(relay.pulses).toEqual([]);
  });

  it('refuses a genuine pass text that the raw bytes reported with it do not back', async () => {
    const genuine = await issuePass(keys.privateJwk, validClaims('mismatch-1'));
    const scan = { ...scanOfText(genuine), bytesHex: hex(new TextEncoder().encode('hello')) };

    const view = await offer(scan);

    expect(view).toMatchObject({ screen: 'refused', refusal: 'not_a_pass' });
    expect(relay.pulses).toEqual([]);
  });

  it('rejects scans over the contract limit at the schema, before the core sees them', () => {
    const oversized = scanOfText('x'.repeat(64 * 1024));

    expect(() => parseCommandInput('scan:report', oversized)).toThrow(/text/);
    expect(relay.pulses).toEqual([]);
  });

  it('still opens for a genuine pass after all of that, once', async () => {
    const text = await issuePass(keys.privateJwk, validClaims('genuine-1'));

    const first = await offer(scanOfText(text));
    expect(first.screen).toBe('accepted');
    expect(relay.pulses).toHaveLength(1);
  });
});
