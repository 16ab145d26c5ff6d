/**
 * What every node-hid driver (call button, HID-POS scanner) does alike around its device: open it
 * by path or by vendor and product, hold the connection state, read its reports, and reopen it
 * after an unplug. node-hid reports an unplug only as an `error` from its read, so the connection
 * then closes the handle, looks for the device every `pollMs` and reopens it once it is listed.
 */
import type { EventEmitter } from 'node:events';
import { KioskError } from '../app/common/errors.js';
import type { Logger } from '../app/core/log.js';
import type { DeviceState } from '../app/core/ports.js';
import { DeviceStateHolder, RetryTimer, type StateListener } from './device-state.js';

/** The part of node-hid's HIDAsync device the drivers use. */
export type HidHandle = Pick<EventEmitter, 'on' | 'removeAllListeners'> & {
  close(): Promise<void>;
};

/** A device as node-hid lists it. */
export interface HidDeviceInfo {
  vendorId: number;
  productId: number;
  path?: string;
}

/** The part of the node-hid module a driver uses; tests put a fake behind the same shape. */
export interface HidBus<Handle extends HidHandle = HidHandle, Info = HidDeviceInfo> {
  HIDAsync: {
    open(path: string): Promise<Handle>;
    open(vendorId: number, productId: number): Promise<Handle>;
  };
  devicesAsync(vendorId: number, productId: number): Promise<Info[]>;
}

/** Which device to open, and how. */
export interface HidConnectionOptions<Handle extends HidHandle> {
  vendorId: number;
  productId: number;
  /** The hidraw path, when two devices share vendor and product id. */
  path: string | undefined;
  /** How often to look for the device while it is absent. */
  pollMs: number;
  /** The device in error messages, e.g. `call button` in "call button 0x1234:0x0001 lost". */
  name: string;
  hid: HidBus<Handle, HidDeviceInfo>;
  /** Opens the device where a path or vendor and product alone would not find the right one. */
  openDevice?: () => Promise<Handle>;
}

/** What the driver does on the connection's events. */
export interface HidConnectionHandlers<Handle extends HidHandle> {
  /** One input report from the current device. */
  data(report: Buffer): void;
  /** Readies a newly opened device (e.g. a feature report); `connected` follows, a rejection fails it. */
  handshake?(handle: Handle): Promise<void>;
  /** A device was opened, lost or closed: anything half read is void. */
  reset?(): void;
}

/** One driver's HID device, kept open while the driver is. */
export class HidConnection<Handle extends HidHandle> {
  private current: Handle | undefined;
  private closed = true;
  private readonly status: DeviceStateHolder;
  private readonly poller: RetryTimer;

  constructor(
    private readonly options: HidConnectionOptions<Handle>,
    private readonly log: Logger,
    private readonly handlers: HidConnectionHandlers<Handle>,
  ) {
    this.status = new DeviceStateHolder(log, { device: this.describe() });
    this.poller = new RetryTimer(options.pollMs, () => this.poll(), log);
  }

  /** `connected` while the device is open, readied and being read. */
  get state(): DeviceState {
    return this.status.state;
  }

  /** The open device, until it is lost or closed. */
  get handle(): Handle | undefined {
    return this.current;
  }

  /** How many state subscribers there are, so tests can prove reconnects do not pile them up. */
  get stateListenerCount(): number {
    return this.status.listenerCount;
  }

  /**
   * Opens the device. When it is absent this rejects with `disconnected` but keeps looking until
   * close(): a kiosk that boots without the device still comes up and gains it when plugged in.
   */
  async open(): Promise<void> {
    if (!this.closed) return;

    this.closed = false;
    this.status.set('connecting');

    const error = await this.tryConnect();
    if (error) {
      // close() may have come while the device was being looked for.
      if (!this.closed) this.poller.start();
      throw error;
    }
  }

  /** Stops looking for the device and closes it, also while a read is pending. */
  async close(): Promise<void> {
    if (this.closed) return;

    this.closed = true;
    this.poller.stop();
    this.handlers.reset?.();
    const handle = this.current;
    this.current = undefined;
    if (handle) await this.release(handle);

    this.status.set('disconnected');
  }

  /** Subscribes to state changes; returns the unsubscribe. */
  onStateChange(listener: StateListener): () => void {
    return this.status.subscribe(listener);
  }

  /** A name for the device in logs and errors: its path, or vendor:product. */
  describe(): string {
    const { vendorId, productId, path } = this.options;
    return path ?? `${hex(vendorId)}:${hex(productId)}`;
  }

  /** One attempt to open and ready the device; returns the error instead of throwing. */
  private async tryConnect(): Promise<KioskError | undefined> {
    let handle: Handle | undefined;
    try {
      handle = await this.openDevice();
      if (this.closed) {
        await this.release(handle);
        return undefined;
      }

      this.attach(handle);
      await this.handlers.handshake?.(handle);
      if (this.current !== handle) throw new Error('device lost while it was being readied');

      this.poller.stop();
      this.status.set('connected');
      return undefined;
    } catch (cause) {
      return this.connectFailed(handle, cause);
    }
  }

  private async connectFailed(
    handle: Handle | undefined,
    cause: unknown,
  ): Promise<KioskError | undefined> {
    if (handle && handle === this.current) {
      this.current = undefined;
      await this.release(handle);
    }
    if (this.closed) return undefined;

    const message = `${this.options.name} ${this.describe()} not available`;
    const error = new KioskError('disconnected', message, { cause });
    this.status.set('disconnected', error);
    return error;
  }

  private openDevice(): Promise<Handle> {
    if (this.options.openDevice) return this.options.openDevice();

    const { hid, path, vendorId, productId } = this.options;
    return path ? hid.HIDAsync.open(path) : hid.HIDAsync.open(vendorId, productId);
  }

  private attach(handle: Handle): void {
    this.current = handle;
    this.handlers.reset?.();
    handle.on('data', (report: Buffer) => {
      if (handle === this.current) this.handlers.data(report);
    });
    handle.on('error', (error: Error) => void this.lost(handle, error));
  }

  /** node-hid's only sign of an unplug: its read failed. */
  private async lost(handle: Handle, cause: Error): Promise<void> {
    if (handle !== this.current || this.closed) return;

    this.current = undefined;
    this.handlers.reset?.();
    const message = `${this.options.name} ${this.describe()} lost`;
    this.status.set('disconnected', new KioskError('disconnected', message, { cause }));
    this.poller.start();
    await this.release(handle);
  }

  /** Reopens the device once node-hid lists it again. */
  private async poll(): Promise<void> {
    if (this.closed || this.current) return;

    if ((await this.isListed()) && !this.closed && !this.current) await this.tryConnect();
  }

  private async isListed(): Promise<boolean> {
    const { hid, vendorId, productId, path } = this.options;
    try {
      const devices = await hid.devicesAsync(vendorId, productId);
      return devices.some((device) => path === undefined || device.path === path);
    } catch (error) {
      this.log.debug({ err: error }, 'poll: listing HID devices failed');
      return false;
    }
  }

  /**
   * Closes a handle whose read may still be pending. Our listeners go first; a no-op error
   * listener stays, so a read interrupted by the close and reported after it cannot crash the
   * process.
   */
  private async release(handle: Handle): Promise<void> {
    handle.removeAllListeners();
    handle.on('error', () => undefined);

    try {
      await handle.close();
    } catch (error) {
      this.log.debug({ err: error }, 'close: device close failed (already gone)');
    }
  }
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(4, '0')}`;
}
