import { describe, expect, it, onTestFinished } from 'vitest';
import { hasCode, type KioskError } from '../../app/common/errors.js';
import { nextState, plugBack, pullCable } from '../testing/device-contract.js';
import { FakeHid, type FakeHidDevice } from '../testing/fake-hid.js';
import { hidPosLayouts, resolveHidPosLayout, type HidPosLayoutName } from './hid-pos-parser.js';
import { HidPosScanner, hidPosUsagePage, type HidPosScannerOptions } from './hid-pos-scanner.js';
import {
  collectScans,
  describeScannerContract,
  nextScan,
  type ScannerContractHarness,
} from './scanner.contract.js';
import { FakeHidPosScanner } from './testing/hid-pos-device.js';
import { resourceCounts } from './testing/resources.js';

const vendorId = 0x0c2e;
const productId = 0x0b8f;

/** Two turns of the event loop: the fake delivers each report on the next one. */
const settle = () =>
  new Promise<void>((resolve) => setImmediate(() => setImmediate(() => resolve())));

function fakeBus(layout: HidPosLayoutName): { hid: FakeHid; scanner: FakeHidPosScanner } {
  const hid = new FakeHid();
  // Every close reports an interrupted read afterwards: the driver must swallow it.
  hid.errorAfterClose = true;
  const device = hid.add({ vendorId, productId, path: '/dev/hidraw4', usagePage: hidPosUsagePage });
  return { hid, scanner: new FakeHidPosScanner(device, resolveHidPosLayout(layout)) };
}

function fakeHarness(layout: HidPosLayoutName): () => Promise<ScannerContractHarness> {
  return () => {
    const { hid, scanner } = fakeBus(layout);
    return Promise.resolve({
      source: 'hid-pos',
      createScanner: () =>
        new HidPosScanner({ vendorId, productId, layout, pollMs: 50, gapMs: 100, hid }),
      present: (payload) => {
        scanner.scan(payload);
        return settle();
      },
      unplug: () => scanner.device.unplug(),
      replug: () => scanner.device.replug(),
      settle,
      teardown: () => Promise.resolve(),
    });
  };
}

describeScannerContract(
  'HidPosScanner (Newland layout) on the fake HID bus',
  fakeHarness('newland'),
);
describeScannerContract(
  'HidPosScanner (Honeywell layout) on the fake HID bus',
  fakeHarness('honeywell'),
);

const realDevice = process.env.KIOSK_TEST_SCANNER_HID;

describe.skipIf(!realDevice)(
  'real HID-POS scanner (set KIOSK_TEST_SCANNER_HID=vid:pid, e.g. 0c2e:0b8f, to run)',
  () => {
    const [vendor, product] = (realDevice ?? '0:0').split(':');
    const layout = (process.env.KIOSK_TEST_SCANNER_LAYOUT ?? 'newland') as HidPosLayoutName;

    describeScannerContract(`HidPosScanner on ${realDevice ?? 'no device'}`, () =>
      Promise.resolve({
        source: 'hid-pos',
        createScanner: () =>
          new HidPosScanner({
            vendorId: Number.parseInt(vendor ?? '0', 16),
            productId: Number.parseInt(product ?? '0', 16),
            layout,
          }),
        settle: () => new Promise<void>((resolve) => setTimeout(resolve, 50)),
        teardown: () => Promise.resolve(),
      }),
    );
  },
);

/** An opened scanner on a fresh fake bus, closed when the test ends. */
async function openScanner(
  layout: HidPosLayoutName,
  options: Partial<HidPosScannerOptions> = {},
): Promise<{
  driver: HidPosScanner;
  hid: FakeHid;
  fake: FakeHidPosScanner;
  device: FakeHidDevice;
}> {
  const { hid, scanner: fake } = fakeBus(layout);
  const driver = new HidPosScanner({
    vendorId,
    productId,
    layout,
    pollMs: 20,
    gapMs: 50,
    hid,
    ...options,
  });
  onTestFinished(() => driver.close());
  await driver.open();
  return { driver, hid, fake, device: fake.device };
}

function nextError(driver: HidPosScanner): Promise<KioskError> {
  return new Promise((resolve) => {
    const off = driver.onError((error) => {
      off();
      resolve(error);
    });
  });
}

describe('HidPosScanner beyond the contract', () => {
  it('sends the Honeywell enabling feature report on every open, and none for Newland', async () => {
    const honeywell = await openScanner('honeywell');
    expect(honeywell.device.featureReports.map((report) => [...report])).toEqual([[0xfe, 0x01]]);

    await pullCable(honeywell.driver, () => honeywell.device.unplug());
    await plugBack(honeywell.driver, () => honeywell.device.replug());
    expect(honeywell.device.featureReports).toHaveLength(2);

    const newland = await openScanner('newland');
    expect(newland.device.featureReports).toEqual([]);
  });

  it('retries a device that refuses the enabling report instead of reporting it connected', async () => {
    const { hid, scanner: fake } = fakeBus('honeywell');
    const device = fake.device;
    const driver = new HidPosScanner({
      vendorId,
      productId,
      layout: 'honeywell',
      layoutOverrides: { enableFeatureReport: [0xfe, 0x01] },
      pollMs: 20,
      hid,
    });
    onTestFinished(() => driver.close());
    const refuse = device.open.bind(device);
    device.open = (errorAfterClose) => {
      const handle = refuse(errorAfterClose);
      handle.sendFeatureReport = () => Promise.reject(new Error('pipe error'));
      return handle;
    };

    await expect(driver.open()).rejects.toSatisfy((error) => hasCode(error, 'disconnected'));
    expect(device.openHandles).toBe(0);

    device.open = refuse;
    await nextState(driver, 'connected');
  });

  it('abandons a Honeywell code whose last report never comes, then reads the next', async () => {
    const { driver, fake } = await openScanner('honeywell');
    const scans = collectScans(driver);
    const long = new Uint8Array(150).fill(0x41);

    const abandoned = nextError(driver);
    fake.scanPart(long, 2);
    expect(hasCode(await abandoned, 'timeout')).toBe(true);

    const scan = nextScan(driver);
    fake.scan(new TextEncoder().encode('next-code'));
    expect((await scan).text).toBe('next-code');
    expect(scans()).toHaveLength(1);
  });

  it('completes a Newland code that fills its last report when the gap passes', async () => {
    const { driver, fake } = await openScanner('newland');
    const payload = new Uint8Array(hidPosLayouts.newland.maxData * 2).fill(0x42);

    const scan = nextScan(driver);
    fake.scan(payload);

    expect((await scan).bytes).toEqual(payload);
  });

  it('reads the AIM identifier of a Honeywell report as the symbology, and honours its ECI', async () => {
    const { driver, fake } = await openScanner('honeywell');

    const scan = nextScan(driver);
    // `]Q2`: ECI protocol; \000026 is UTF-8.
    fake.scan(new TextEncoder().encode('\\000026访客'), { aim: ']Q2' });

    expect(await scan).toMatchObject({ symbology: ']Q2', text: '访客', charset: 'UTF-8' });
  });

  it('opens the HID-POS interface of a scanner that also lists a keyboard interface', async () => {
    const hid = new FakeHid();
    const keyboard = hid.add({ vendorId, productId, path: '/dev/hidraw1', usagePage: 0x01 });
    const pos = hid.add({ vendorId, productId, path: '/dev/hidraw2', usagePage: hidPosUsagePage });
    const driver = new HidPosScanner({ vendorId, productId, hid });
    onTestFinished(() => driver.close());

    await driver.open();

    expect(pos.openHandles).toBe(1);
    expect(keyboard.openHandles).toBe(0);
  });

  it('forgets a part-collected code on unplug', async () => {
    const { driver, fake, device } = await openScanner('honeywell', { gapMs: 5_000 });
    fake.scanPart(new Uint8Array(150).fill(0x43), 2);
    await settle();

    await pullCable(driver, () => device.unplug());
    await plugBack(driver, () => device.replug());
    const scan = nextScan(driver);
    fake.scan(new TextEncoder().encode('fresh'));

    expect((await scan).text).toBe('fresh');
  });

  it('closes the device it was opening when closed meanwhile', async () => {
    const { hid, scanner: fake } = fakeBus('honeywell');
    const driver = new HidPosScanner({ vendorId, productId, layout: 'honeywell', hid });

    const opening = driver.open();
    await driver.close();
    await opening.catch(() => undefined);

    expect(fake.device.openHandles).toBe(0);
    expect(driver.state).toBe('disconnected');
  });

  it('refuses an impossible layout as config_invalid', () => {
    expect(
      () => new HidPosScanner({ vendorId, productId, layoutOverrides: { dataAt: 250 } }),
    ).toThrow(expect.objectContaining({ code: 'config_invalid' }) as Error);
  });

  it('goes through 100 unplug and replug cycles while scanning, without growth', async () => {
    const { driver, fake, device } = await openScanner('honeywell', { pollMs: 5 });
    const scans = collectScans(driver);
    const before = { listeners: driver.listenerCounts(), resources: resourceCounts() };

    for (let cycle = 0; cycle < 100; cycle += 1) {
      const scan = nextScan(driver);
      fake.scan(new TextEncoder().encode(`cycle-${cycle}`));
      expect((await scan).text).toBe(`cycle-${cycle}`);

      const started = Date.now();
      await pullCable(driver, () => device.unplug());
      await plugBack(driver, () => device.replug());
      expect(Date.now() - started).toBeLessThan(2_000);
    }

    expect(scans()).toHaveLength(100);
    expect(driver.listenerCounts()).toEqual(before.listeners);
    expect(device.openHandles).toBe(1);
    const after = resourceCounts();
    expect(after.handles).toEqual(before.resources.handles);
    // Timers and file checks in flight at this instant come and go; only a pile-up is a leak.
    expect(after.timers).toBeLessThanOrEqual(before.resources.timers + 2);
    expect(after.requests).toBeLessThanOrEqual(before.resources.requests + 2);
  });
});
