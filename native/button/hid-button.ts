/**
 * Driver for a USB HID call button read through node-hid. Such buttons send an input report on
 * every change; one bit of one byte says whether the button is down. A press is that bit going
 * from released to pressed, so a button held down is one press however many reports it sends.
 *
 * node-hid reports an unplug only as an `error` from its read: the driver then closes the handle,
 * looks for the device again every `pollMs` and reopens it when it is back.
 */
import type { EventEmitter } from 'node:events';
import * as nodeHid from 'node-hid';
import { KioskError } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import type { CallButton, DeviceState } from '../../app/core/ports.js';
import { DeviceStateHolder, RetryTimer, type StateListener } from '../device-state.js';

const log = moduleLogger('button.hid');

const realHid: HidModule = nodeHid;

/** The part of node-hid's HIDAsync device the driver uses. */
export type HidHandle = Pick<EventEmitter, 'on' | 'removeAllListeners'> & {
  close(): Promise<void>;
};

/** A device as node-hid lists it. */
export interface HidDeviceInfo {
  vendorId: number;
  productId: number;
  path?: string;
}

/** The part of the node-hid module the driver uses; tests put a fake behind the same shape. */
export interface HidModule {
  HIDAsync: {
    open(path: string): Promise<HidHandle>;
    open(vendorId: number, productId: number): Promise<HidHandle>;
  };
  devicesAsync(vendorId: number, productId: number): Promise<HidDeviceInfo[]>;
}

/** Which device is the button and where in its reports the button is. */
export interface HidCallButtonOptions {
  vendorId: number;
  productId: number;
  /** The hidraw path, when two devices share vendor and product id. */
  path?: string;
  /** Index of the report byte that carries the button. */
  reportByte: number;
  /** Bits of that byte that read as pressed when any of them is set. */
  mask: number;
  /** Presses closer together than this count once (contacts bounce). Default 50. */
  debounceMs?: number;
  /** How often to look for the device while it is absent. Default 1000. */
  pollMs?: number;
  /** node-hid itself unless a test supplies a fake. */
  hid?: HidModule;
}

type ResolvedOptions = Required<Omit<HidCallButtonOptions, 'path'>> &
  Pick<HidCallButtonOptions, 'path'>;

/** A USB HID call button as the core's CallButton. */
export class HidCallButton implements CallButton {
  private handle: HidHandle | undefined;
  private closed = true;
  private pressed = false;
  private lastPressAt = Number.NEGATIVE_INFINITY;
  private shortReportLogged = false;
  private readonly pressListeners = new Set<() => void>();
  private readonly options: ResolvedOptions;
  private readonly status: DeviceStateHolder;
  private readonly poller: RetryTimer;

  constructor(options: HidCallButtonOptions) {
    this.options = validate(options);
    this.status = new DeviceStateHolder(log, { device: this.describe() });
    this.poller = new RetryTimer(this.options.pollMs, () => this.poll(), log);
  }

  /** `connected` while the device is open and being read. */
  get state(): DeviceState {
    return this.status.state;
  }

  /**
   * Opens the device. When it is absent this rejects with `disconnected` but keeps looking until
   * close(): a kiosk that boots without its button still comes up and gains it when plugged in.
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

  onPress(listener: () => void): () => void {
    this.pressListeners.add(listener);
    return () => {
      this.pressListeners.delete(listener);
    };
  }

  onStateChange(listener: StateListener): () => void {
    return this.status.subscribe(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;

    this.closed = true;
    this.poller.stop();
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await release(handle);

    this.status.set('disconnected');
  }

  /** Listener counts, so tests can prove that reconnects do not pile listeners up. */
  listenerCounts(): { press: number; state: number } {
    return { press: this.pressListeners.size, state: this.status.listenerCount };
  }

  /** One attempt to open the device; returns the error instead of throwing. */
  private async tryConnect(): Promise<KioskError | undefined> {
    try {
      const handle = await this.openDevice();
      if (this.closed) {
        await release(handle);
        return undefined;
      }

      this.attach(handle);
      return undefined;
    } catch (cause) {
      const error = new KioskError('disconnected', `call button ${this.describe()} not found`, {
        cause,
      });
      if (!this.closed) this.status.set('disconnected', error);
      return error;
    }
  }

  private openDevice(): Promise<HidHandle> {
    const { hid, path, vendorId, productId } = this.options;
    return path ? hid.HIDAsync.open(path) : hid.HIDAsync.open(vendorId, productId);
  }

  private attach(handle: HidHandle): void {
    this.handle = handle;
    this.pressed = false;
    this.poller.stop();

    handle.on('data', (report: Buffer) => this.onReport(handle, report));
    handle.on('error', (error: Error) => void this.onLost(handle, error));
    this.status.set('connected');
  }

  private onReport(handle: HidHandle, report: Buffer): void {
    if (handle !== this.handle) return;

    const { reportByte, mask } = this.options;
    if (report.length <= reportByte) {
      if (!this.shortReportLogged)
        log.warn({ bytes: report.length, reportByte }, 'report: shorter than reportByte, ignored');
      this.shortReportLogged = true;
      return;
    }

    const pressed = ((report[reportByte] ?? 0) & mask) !== 0;
    const wasPressed = this.pressed;
    this.pressed = pressed;
    if (pressed && !wasPressed) this.onPressEdge();
  }

  private onPressEdge(): void {
    const now = performance.now();
    if (now - this.lastPressAt < this.options.debounceMs) {
      log.debug('press: within the debounce time, ignored');
      return;
    }

    this.lastPressAt = now;
    log.info('press: call button pressed');
    for (const listener of this.pressListeners) {
      try {
        listener();
      } catch (error) {
        log.error({ err: error }, 'press: a listener failed');
      }
    }
  }

  /** node-hid's only sign of an unplug: its read failed. */
  private async onLost(handle: HidHandle, cause: Error): Promise<void> {
    if (handle !== this.handle || this.closed) return;

    this.handle = undefined;
    this.pressed = false;
    const error = new KioskError('disconnected', `call button ${this.describe()} lost`, { cause });
    this.status.set('disconnected', error);
    this.poller.start();
    await release(handle);
  }

  /** Reopens the device once node-hid lists it again. */
  private async poll(): Promise<void> {
    if (this.closed || this.handle) return;

    const { hid, vendorId, productId, path } = this.options;
    let present: boolean;
    try {
      const devices = await hid.devicesAsync(vendorId, productId);
      present = devices.some((device) => path === undefined || device.path === path);
    } catch (error) {
      log.debug({ err: error }, 'poll: listing HID devices failed');
      return;
    }

    if (present && !this.closed && !this.handle) await this.tryConnect();
  }

  private describe(): string {
    const { vendorId, productId, path } = this.options;
    return path ?? `${hex(vendorId)}:${hex(productId)}`;
  }
}

/**
 * Closes a handle whose read may still be pending. Our listeners go first; a no-op error listener
 * stays, so an interrupted read reported after the close cannot become an uncaught exception.
 */
async function release(handle: HidHandle): Promise<void> {
  handle.removeAllListeners();
  handle.on('error', () => undefined);

  try {
    await handle.close();
  } catch (error) {
    log.debug({ err: error }, 'close: device close failed (already gone)');
  }
}

function validate(options: HidCallButtonOptions): ResolvedOptions {
  const { reportByte, mask } = options;
  if (!Number.isInteger(reportByte) || reportByte < 0)
    throw new TypeError(`reportByte must be a byte index from 0, got ${reportByte}`);
  if (!Number.isInteger(mask) || mask < 1 || mask > 255)
    throw new TypeError(`mask must be 1 to 255, got ${mask}`);

  return {
    ...options,
    debounceMs: options.debounceMs ?? 50,
    pollMs: options.pollMs ?? 1000,
    hid: options.hid ?? realHid,
  };
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(4, '0')}`;
}
