import { afterEach, describe, expect, it } from 'vitest';
import type { ScannerScan } from '../common/scanner-scan.js';
import type { IdCardRead } from '../../native/idcard/id-record.js';
import { residentCard } from '../../native/idcard/testing/cards.js';
import { parseConfig } from './config.js';
import { openDevices } from './devices.js';
import { FakeRelay } from './testing/fake-relay.js';

type Cleanup = () => unknown;
let cleanups: Cleanup[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

function waitFor<T>(values: T[], timeoutMs = 3_000): Promise<T> {
  return expect
    .poll(() => values.length, { timeout: timeoutMs })
    .toBeGreaterThan(0)
    .then(() => values[0]);
}

async function open(config: Record<string, unknown>) {
  const scans: ScannerScan[] = [];
  const cards: IdCardRead[] = [];
  const devices = await openDevices(
    parseConfig(config),
    { relay: new FakeRelay(), callButton: null },
    { onScan: (scan) => scans.push(scan), onCard: (read) => cards.push(read) },
    cleanups,
  );
  return { devices, scans, cards };
}

describe("the kiosk's entry devices", () => {
  it('in a demo, plays a serial scanner and an ID card reader that deliver like real ones', async () => {
    const { devices, scans, cards } = await open({});

    expect(devices.registry.list().map((device) => device.name)).toEqual([
      'relay',
      'scanner:serial',
      'idCard',
      'scanner:keyboard',
    ]);
    await expect.poll(() => devices.entryMethods()).toEqual({ scanner: 'ready', idCard: 'ready' });

    await devices.simulators.scanner!.scan('PASS-1234');
    expect((await waitFor(scans)).text).toBe('PASS-1234');
    devices.simulators.idCard!.placeCard(residentCard);
    expect((await waitFor(cards)).record.kind).toBe('resident');
    expect(devices.registry.get('idCard')).toMatchObject({
      lastEvent: { what: 'card' },
      counters: { events: 1 },
    });
  });

  it('in a demo with a HID-POS scanner configured, shows that scanner missing instead of playing one', async () => {
    const { devices } = await open({
      scanner: { hidPos: { vendorId: '0xfff0', productId: '0xfff1' } },
    });

    expect(devices.simulators.scanner).toBeUndefined();
    expect(devices.registry.get('scanner:hid')).toMatchObject({ address: 'fff0:fff1' });
    await expect.poll(() => devices.entryMethods().scanner).toBe('unavailable');
  });

  it('on real hardware opens only what is configured, and notes untrusted keyboard input', async () => {
    const { devices } = await open({
      relay: { kind: 'lcus', port: '/dev/null-relay' },
      storeKey: 'a long enough store key',
    });

    expect(devices.entryMethods()).toEqual({ scanner: 'none', idCard: 'none' });
    devices.keyboardWarning('ime_active');
    expect(devices.registry.get('scanner:keyboard')?.lastError).toMatchObject({
      code: 'bad_payload',
      message: 'ime_active',
    });
  });
});
