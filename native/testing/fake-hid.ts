/**
 * A fake USB HID bus behind node-hid's own shape (HIDAsync.open, devicesAsync), so HID drivers
 * (call button, HID-POS scanner) run unchanged against it. Tests write input reports, unplug and
 * replug a device; an unplug fails the pending read with an `error`, which is all node-hid
 * reports. Feature reports the driver sends are recorded per device.
 */
import { EventEmitter } from 'node:events';
import type { HidDeviceInfo, HidHandle, HidModule } from '../button/hid-button.js';

/** What node-hid's binding says when the device under a read goes away. */
const readFailed = 'could not read from HID device';

/** A fake device's identity; usage page and usage as node-hid lists them where the OS tells. */
export type FakeHidInfo = Required<HidDeviceInfo> & { usagePage?: number; usage?: number };

/** Where a fake call button sits in its reports. */
export interface FakeButtonLayout {
  reportByte: number;
  mask: number;
  reportLength?: number;
}

/** One open handle on a fake device, as HIDAsync.open returns it. */
export class FakeHidHandle extends EventEmitter implements HidHandle {
  closed = false;

  constructor(
    private readonly device: FakeHidDevice,
    /** When set, the pending read reports its interruption after close, as some hidapi builds do. */
    private readonly errorAfterClose: boolean,
  ) {
    super();
  }

  close(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('device already closed'));

    this.closed = true;
    this.device.forget(this);
    if (this.errorAfterClose) setImmediate(() => this.emit('error', new Error(readFailed)));
    return Promise.resolve();
  }

  /** Records a feature report on the device, as hidapi's hid_send_feature_report would send it. */
  sendFeatureReport(data: number[] | Buffer): Promise<number> {
    if (this.closed || !this.device.plugged)
      return Promise.reject(new Error('could not send feature report to device'));

    this.device.featureReports.push(Buffer.from(data));
    return Promise.resolve(data.length);
  }

  /** Delivers a report as node-hid's read thread would: later, on the event loop. */
  deliver(report: Buffer): void {
    setImmediate(() => {
      if (!this.closed) this.emit('data', report);
    });
  }

  /** The read fails because the device is gone. */
  fail(): void {
    setImmediate(() => {
      if (!this.closed) this.emit('error', new Error(readFailed));
    });
  }
}

/** A simulated USB HID device: its identity, whether it is plugged in, and its open handles. */
export class FakeHidDevice {
  plugged = true;
  /** Every feature report sent to the device, oldest first. */
  readonly featureReports: Buffer[] = [];
  /** The last report written; a button press changes only its button bits. */
  private report: number[];
  private readonly handles = new Set<FakeHidHandle>();

  constructor(
    readonly info: FakeHidInfo,
    /** Where the button is, for devices that play a call button. */
    private readonly button?: FakeButtonLayout,
  ) {
    this.report = new Array<number>(button?.reportLength ?? 8).fill(0);
  }

  /** Sends a report with the button held down. */
  press(): void {
    this.setButton(true);
  }

  /** Sends a report with the button released. */
  release(): void {
    this.setButton(false);
  }

  /** Sends these exact bytes as an input report. */
  writeReport(bytes: ArrayLike<number>): void {
    this.report = Array.from(bytes);
    for (const handle of this.handles) handle.deliver(Buffer.from(this.report));
  }

  /** Pulls the cable: every pending read fails and the device leaves the list. */
  unplug(): void {
    this.plugged = false;
    for (const handle of this.handles) handle.fail();
  }

  replug(): void {
    this.plugged = true;
  }

  /** Handles opened and not yet closed. */
  get openHandles(): number {
    return this.handles.size;
  }

  open(errorAfterClose: boolean): FakeHidHandle {
    const handle = new FakeHidHandle(this, errorAfterClose);
    this.handles.add(handle);
    return handle;
  }

  forget(handle: FakeHidHandle): void {
    this.handles.delete(handle);
  }

  private setButton(down: boolean): void {
    if (!this.button) throw new Error('this fake device has no button layout');

    const { reportByte, mask } = this.button;
    const bytes = [...this.report];
    const current = bytes[reportByte] ?? 0;
    bytes[reportByte] = down ? current | mask : current & ~mask;
    this.writeReport(bytes);
  }
}

/** The fake bus: node-hid's module shape over a list of fake devices. */
export class FakeHid implements HidModule {
  readonly devices: FakeHidDevice[] = [];
  /** Make every handle report an interrupted read after it is closed. */
  errorAfterClose = false;
  opens = 0;

  readonly HIDAsync = {
    open: (...target: [string] | [number, number]): Promise<FakeHidHandle> => this.open(target),
  } as {
    open(path: string): Promise<FakeHidHandle>;
    open(vendorId: number, productId: number): Promise<FakeHidHandle>;
  };

  /** Adds a plugged-in device; `button` says where its button is, if it plays one. */
  add(info: FakeHidInfo, button?: FakeButtonLayout): FakeHidDevice {
    const device = new FakeHidDevice(info, button);
    this.devices.push(device);
    return device;
  }

  devicesAsync(vendorId: number, productId: number): Promise<FakeHidInfo[]> {
    return Promise.resolve(
      this.devices
        .filter((device) => device.plugged && matches(device, vendorId, productId))
        .map((device) => ({ ...device.info })),
    );
  }

  private open(target: [string] | [number, number]): Promise<FakeHidHandle> {
    this.opens += 1;
    const device = this.devices.find(
      (candidate) =>
        candidate.plugged &&
        (target.length === 1
          ? candidate.info.path === target[0]
          : matches(candidate, target[0], target[1])),
    );
    if (!device) return Promise.reject(new Error('cannot open device with path or id'));

    return Promise.resolve(device.open(this.errorAfterClose));
  }
}

function matches(device: FakeHidDevice, vendorId: number, productId: number): boolean {
  return device.info.vendorId === vendorId && device.info.productId === productId;
}
