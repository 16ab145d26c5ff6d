/**
 * Driver for a USB HID call button read through node-hid. Such buttons send an input report on
 * every change; one bit of one byte says whether the button is down. A press is that bit going
 * from released to pressed, so a button held down is one press however many reports it sends.
 *
 * Opening, unplug and replug are HidConnection's, as for every HID driver.
 */
import * as nodeHid from 'node-hid';
import { moduleLogger } from '../../app/core/log.js';
import type { CallButton, DeviceState } from '../../app/core/ports.js';
import type { StateListener } from '../device-state.js';
import { HidConnection, type HidBus, type HidHandle } from '../hid-connection.js';

export type { HidDeviceInfo, HidHandle } from '../hid-connection.js';

const log = moduleLogger('button.hid');

/** The part of the node-hid module the driver uses; tests put a fake behind the same shape. */
export type HidModule = HidBus;

const realHid: HidModule = nodeHid;

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
  private pressed = false;
  private lastPressAt = Number.NEGATIVE_INFINITY;
  private shortReportLogged = false;
  private readonly pressListeners = new Set<() => void>();
  private readonly options: ResolvedOptions;
  private readonly connection: HidConnection<HidHandle>;

  constructor(options: HidCallButtonOptions) {
    this.options = validate(options);
    const { vendorId, productId, path, pollMs, hid } = this.options;
    this.connection = new HidConnection(
      { vendorId, productId, path, pollMs, hid, name: 'call button' },
      log,
      {
        data: (report) => this.onReport(report),
        // A button held through an unplug is not a press when it comes back.
        reset: () => {
          this.pressed = false;
        },
      },
    );
  }

  /** `connected` while the device is open and being read. */
  get state(): DeviceState {
    return this.connection.state;
  }

  /**
   * Opens the device. When it is absent this rejects with `disconnected` but keeps looking until
   * close(): a kiosk that boots without its button still comes up and gains it when plugged in.
   */
  open(): Promise<void> {
    return this.connection.open();
  }

  onPress(listener: () => void): () => void {
    this.pressListeners.add(listener);
    return () => {
      this.pressListeners.delete(listener);
    };
  }

  onStateChange(listener: StateListener): () => void {
    return this.connection.onStateChange(listener);
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /** Listener counts, so tests can prove that reconnects do not pile listeners up. */
  listenerCounts(): { press: number; state: number } {
    return { press: this.pressListeners.size, state: this.connection.stateListenerCount };
  }

  private onReport(report: Buffer): void {
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
