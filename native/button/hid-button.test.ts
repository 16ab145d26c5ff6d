import { describe, expect, it, onTestFinished } from 'vitest';
import { describeCallButtonContract, type CallButtonContractHarness } from './button.contract.js';
import { FakeHid, type FakeHidDevice } from './testing/fake-hid.js';
import { HidCallButton, type HidCallButtonOptions } from './hid-button.js';

const vendorId = 0x1a2b;
const productId = 0x3c4d;
const reportByte = 2;
const mask = 0x04;

/** Two turns of the event loop: the fake delivers each report on the next one. */
const settle = () =>
  new Promise<void>((resolve) => setImmediate(() => setImmediate(() => resolve())));

function fakeBus(): { hid: FakeHid; device: FakeHidDevice } {
  const hid = new FakeHid();
  // Every close reports an interrupted read afterwards: the driver must swallow it.
  hid.errorAfterClose = true;
  const device = hid.add({ vendorId, productId, path: '/dev/hidraw7' }, { reportByte, mask });
  return { hid, device };
}

function fakeHarness(): Promise<CallButtonContractHarness> {
  const { hid, device } = fakeBus();

  return Promise.resolve({
    createButton: ({ debounceMs }) =>
      new HidCallButton({ vendorId, productId, reportByte, mask, debounceMs, pollMs: 50, hid }),
    press: () => device.press(),
    release: () => device.release(),
    unplug: () => device.unplug(),
    replug: () => device.replug(),
    settle,
    openHandles: () => device.openHandles,
    teardown: () => Promise.resolve(),
  });
}

describeCallButtonContract('HidCallButton on the fake HID device', fakeHarness);

const realDevice = process.env.KIOSK_TEST_BUTTON_HID;

describe.skipIf(!realDevice)(
  'real HID call button (set KIOSK_TEST_BUTTON_HID=vid:pid, e.g. 1a2b:3c4d, to run)',
  () => {
    const [vendor, product] = (realDevice ?? '0:0').split(':');
    const [byte, bits] = (process.env.KIOSK_TEST_BUTTON_REPORT ?? '0:1').split(':');

    describeCallButtonContract(`HidCallButton on ${realDevice ?? 'no device'}`, () =>
      Promise.resolve({
        createButton: ({ debounceMs }) =>
          new HidCallButton({
            vendorId: Number.parseInt(vendor ?? '0', 16),
            productId: Number.parseInt(product ?? '0', 16),
            reportByte: Number(byte),
            mask: Number(bits),
            debounceMs,
          }),
        settle: () => new Promise<void>((resolve) => setTimeout(resolve, 50)),
        teardown: () => Promise.resolve(),
      }),
    );
  },
);

/** An opened button on a fresh fake bus, closed when the test ends. */
async function openButton(
  options: Partial<HidCallButtonOptions> = {},
): Promise<{ button: HidCallButton; hid: FakeHid; device: FakeHidDevice; presses: () => number }> {
  const { hid, device } = fakeBus();
  const button = new HidCallButton({
    vendorId,
    productId,
    reportByte,
    mask,
    debounceMs: 0,
    pollMs: 50,
    hid,
    ...options,
  });
  onTestFinished(() => button.close());
  await button.open();

  let presses = 0;
  button.onPress(() => (presses += 1));
  return { button, hid, device, presses: () => presses };
}

describe('HidCallButton beyond the contract', () => {
  it('reads only the masked bits of the configured byte', async () => {
    const { device, presses } = await openButton();

    device.writeReport([0xff, 0xff, 0xfb, 0xff]);
    device.writeReport([0, 0, 0, 0]);
    device.writeReport([0, 0, 0x04, 0]);
    await settle();

    expect(presses()).toBe(1);
  });

  it('ignores a report too short to hold the button byte', async () => {
    const { device, presses } = await openButton();

    device.writeReport([0xff, 0xff]);
    await settle();

    expect(presses()).toBe(0);
  });

  it('opens the device at the configured path when two share vendor and product', async () => {
    const { hid, device } = fakeBus();
    const second = hid.add({ vendorId, productId, path: '/dev/hidraw9' }, { reportByte, mask });
    const button = new HidCallButton({
      vendorId,
      productId,
      path: '/dev/hidraw9',
      reportByte,
      mask,
      hid,
    });
    onTestFinished(() => button.close());

    await button.open();

    expect(second.openHandles).toBe(1);
    expect(device.openHandles).toBe(0);
  });

  it('closes the device it was opening when closed meanwhile', async () => {
    const { hid, device } = fakeBus();
    const button = new HidCallButton({ vendorId, productId, reportByte, mask, hid });

    const opening = button.open();
    await button.close();
    await opening;

    expect(device.openHandles).toBe(0);
    expect(button.state).toBe('disconnected');
  });

  it('stops looking for an absent device once closed', async () => {
    const { hid, device } = fakeBus();
    device.unplug();
    const button = new HidCallButton({ vendorId, productId, reportByte, mask, hid, pollMs: 10 });
    await button.open().catch(() => undefined);

    await button.close();
    const opens = hid.opens;
    device.replug();
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(hid.opens).toBe(opens);
    expect(device.openHandles).toBe(0);
  });

  it('refuses a mask that cannot match a byte', () => {
    expect(() => new HidCallButton({ vendorId, productId, reportByte: 0, mask: 0x100 })).toThrow(
      TypeError,
    );
  });
});
