import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { hasCode } from '../app/common/errors.js';
import { moduleLogger } from '../app/core/log.js';
import { HidConnection, type HidConnectionHandlers } from './hid-connection.js';
import { FakeHid, type FakeHidHandle } from './testing/fake-hid.js';
import { nextState } from './testing/device-contract.js';

const log = moduleLogger('hid-connection.test');
const vendorId = 0x1a2b;
const productId = 0x3c4d;

function fakeBus(): FakeHid {
  const hid = new FakeHid();
  // Every close reports an interrupted read afterwards: the connection must swallow it.
  hid.errorAfterClose = true;
  hid.add({ vendorId, productId, path: '/dev/hidraw3' });
  return hid;
}

function connect(
  hid: FakeHid,
  handlers: Partial<HidConnectionHandlers<FakeHidHandle>> = {},
  path?: string,
): { connection: HidConnection<FakeHidHandle>; reports: Buffer[] } {
  const reports: Buffer[] = [];
  const connection = new HidConnection<FakeHidHandle>(
    { vendorId, productId, path, pollMs: 10, name: 'test device', hid },
    log,
    { data: (report) => reports.push(report), ...handlers },
  );
  onTestFinished(() => connection.close());
  return { connection, reports };
}

describe('HidConnection', () => {
  it('opens the device by vendor and product and hands over its reports', async () => {
    const hid = fakeBus();
    const { connection, reports } = connect(hid);

    await connection.open();
    hid.devices[0].writeReport([1, 2, 3]);

    expect(connection.state).toBe('connected');
    await vi.waitFor(() => expect(reports).toEqual([Buffer.from([1, 2, 3])]));
  });

  it('is connected only once the handshake passes, and retries a device that refused it', async () => {
    const hid = fakeBus();
    let refusals = 1;
    const handshake = vi.fn(() =>
      refusals-- > 0 ? Promise.reject(new Error('pipe error')) : Promise.resolve(),
    );
    const { connection } = connect(hid, { handshake });

    await expect(connection.open()).rejects.toSatisfy((error) => hasCode(error, 'disconnected'));
    expect(hid.devices[0].openHandles).toBe(0);

    await nextState(connection, 'connected');
    expect(handshake).toHaveBeenCalledTimes(2);
  });

  it('reports an unplug as disconnected, resets the driver and reopens the device once listed', async () => {
    const hid = fakeBus();
    const reset = vi.fn();
    const { connection, reports } = connect(hid, { reset });
    await connection.open();
    const device = hid.devices[0];

    const lost = nextState(connection, 'disconnected');
    device.unplug();
    const { error } = await lost;
    expect(hasCode(error, 'disconnected')).toBe(true);
    expect(reset).toHaveBeenCalledTimes(2);
    expect(connection.handle).toBeUndefined();

    const back = nextState(connection, 'connected');
    device.replug();
    await back;
    device.writeReport([9]);
    await vi.waitFor(() => expect(reports).toEqual([Buffer.from([9])]));
    expect(device.openHandles).toBe(1);
  });

  it('opens the device its driver finds, where one is given', async () => {
    const hid = fakeBus();
    const other = hid.add({ vendorId, productId, path: '/dev/hidraw4' });
    const openDevice = (): Promise<FakeHidHandle> => hid.HIDAsync.open('/dev/hidraw4');
    const connection = new HidConnection<FakeHidHandle>(
      { vendorId, productId, path: undefined, pollMs: 10, name: 'test device', hid, openDevice },
      log,
      { data: () => undefined },
    );
    onTestFinished(() => connection.close());

    await connection.open();

    expect(other.openHandles).toBe(1);
    expect(hid.devices[0].openHandles).toBe(0);
  });

  it('closes while a read is pending without crashing, and reports nothing after', async () => {
    const hid = fakeBus();
    const { connection, reports } = connect(hid, {}, '/dev/hidraw3');
    await connection.open();
    const states: string[] = [];
    connection.onStateChange((state) => states.push(state));

    hid.devices[0].writeReport([5]);
    await connection.close();
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(reports).toEqual([]);
    expect(states).toEqual(['disconnected']);
    expect(hid.devices[0].openHandles).toBe(0);
  });
});
