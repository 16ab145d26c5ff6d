/**
 * A fake USB HID bus behind node-hid's own shape (HIDAsync.open, devicesAsync), so the call
 * button driver runs unchanged against it. Tests write input reports, unplug and replug the
 * device; an unplug fails the pending read with an `error`, which is all node-hid reports.
 */
import { EventEmitter } from 'node:events';
import type { HidDeviceInfo, HidHandle, HidModule } from '../hid-button.js';

/** What node-hid's binding says when the device under a read goes away. */
const readFailed = 'could not read from HID device';

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
  /** Bits `mask` of byte `reportByte` is the button; other bytes stay as written last. */
  private report: number[];
  private readonly handles = new Set<FakeHidHandle>();

  constructor(
    readonly info: Required<HidDeviceInfo>,
    private readonly button: { reportByte: number; mask: number; reportLength?: number },
  ) {
    this.report = new Array<number>(button.reportLength ?? 8).fill(0);
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
  writeReport(bytes: number[]): void {
    this.report = [...bytes];
    for (const handle of this.handles) handle.deliver(Buffer.from(bytes));
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
    open: (...target: [string] | [number, number]): Promise<HidHandle> => this.open(target),
  } as HidModule['HIDAsync'];

  /** Adds a plugged-in device. */
  add(
    info: Required<HidDeviceInfo>,
    button: { reportByte: number; mask: number; reportLength?: number },
  ): FakeHidDevice {
    const device = new FakeHidDevice(info, button);
    this.devices.push(device);
    return device;
  }

  devicesAsync(vendorId: number, productId: number): Promise<HidDeviceInfo[]> {
    return Promise.resolve(
      this.devices
        .filter((device) => device.plugged && matches(device, vendorId, productId))
        .map((device) => ({ ...device.info })),
    );
  }

  private open(target: [string] | [number, number]): Promise<HidHandle> {
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
