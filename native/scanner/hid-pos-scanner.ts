/**
 * Driver for barcode/QR scanners in HID-POS mode (usage page 8C) read through node-hid. Reports
 * are joined into codes by HidPosParser for the configured vendor layout; a layout that needs it
 * gets its enabling feature report after every open, since a replugged scanner forgets it.
 * Opening, unplug and replug are HidConnection's, as for every HID driver.
 */
import * as nodeHid from 'node-hid';
import { KioskError } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import type { DeviceState } from '../../app/core/ports.js';
import type { StateListener } from '../device-state.js';
import {
  HidConnection,
  type HidBus,
  type HidDeviceInfo,
  type HidHandle,
} from '../hid-connection.js';
import {
  HidPosParser,
  resolveHidPosLayout,
  type HidPosLayout,
  type HidPosLayoutName,
} from './hid-pos-parser.js';
import {
  ScanListeners,
  type ScanErrorListener,
  type ScanListener,
  type Scanner,
} from './scanner.js';

const log = moduleLogger('scanner.hid-pos');

/** The HID usage page of point-of-sale devices; the scanner's data interface carries it. */
export const hidPosUsagePage = 0x8c;

/** The part of node-hid's HIDAsync device the scanner uses. */
export type HidPosHandle = HidHandle & {
  sendFeatureReport(data: number[] | Buffer): Promise<number>;
  listenerCount(event: string): number;
};

/** A device as node-hid lists it, with the usage page where the OS reports one. */
export type HidPosDeviceInfo = HidDeviceInfo & { usagePage?: number };

/** The part of the node-hid module the scanner uses; tests put a fake behind the same shape. */
export type HidPosModule = HidBus<HidPosHandle, HidPosDeviceInfo>;

const realHid: HidPosModule = nodeHid;

/** Which device is the scanner and how its reports are laid out. */
export interface HidPosScannerOptions {
  vendorId: number;
  productId: number;
  /** The hidraw path, when two devices share vendor and product id. */
  path?: string;
  /** `newland`, `honeywell` or a layout of its own. Default `newland`. */
  layout?: HidPosLayoutName | HidPosLayout;
  /** Offsets or the enabling report where a scanner differs from its vendor's layout. */
  layoutOverrides?: Partial<HidPosLayout>;
  /** A code whose next report has not come after this long is given up. Default 200. */
  gapMs?: number;
  /** How often to look for the device while it is absent. Default 1000. */
  pollMs?: number;
  /** node-hid itself unless a test supplies a fake. */
  hid?: HidPosModule;
}

interface ResolvedOptions {
  vendorId: number;
  productId: number;
  path: string | undefined;
  layout: HidPosLayout;
  gapMs: number;
  pollMs: number;
  hid: HidPosModule;
}

/** A HID-POS barcode/QR scanner as a Scanner. */
export class HidPosScanner implements Scanner {
  readonly source = 'hid-pos';
  private gapTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new ScanListeners(log, 'report');
  private readonly options: ResolvedOptions;
  private readonly parser: HidPosParser;
  private readonly connection: HidConnection<HidPosHandle>;

  constructor(options: HidPosScannerOptions) {
    this.options = validate(options);
    this.parser = new HidPosParser(this.options.layout, this.options.gapMs);
    const { vendorId, productId, path, pollMs, hid } = this.options;
    this.connection = new HidConnection(
      {
        vendorId,
        productId,
        path,
        pollMs,
        hid,
        name: 'scanner',
        openDevice: () => this.openDevice(),
      },
      log,
      {
        data: (report) => this.onReport(report),
        handshake: (handle) => this.enable(handle),
        reset: () => {
          this.stopGapTimer();
          this.parser.reset();
        },
      },
    );
  }

  /** `connected` while the device is open, enabled and being read. */
  get state(): DeviceState {
    return this.connection.state;
  }

  /**
   * Opens and enables the device. When it is absent this rejects with `disconnected` but keeps
   * looking until close(): a kiosk that boots without its scanner gains it when plugged in.
   */
  open(): Promise<void> {
    return this.connection.open();
  }

  onScan(listener: ScanListener): () => void {
    return this.listeners.onScan(listener);
  }

  onError(listener: ScanErrorListener): () => void {
    return this.listeners.onError(listener);
  }

  onStateChange(listener: StateListener): () => void {
    return this.connection.onStateChange(listener);
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /** Listener counts, so tests can prove that reconnects do not pile listeners up. */
  listenerCounts(): { scan: number; error: number; state: number; handle: number } {
    const handle = this.connection.handle;
    const onHandle = handle ? handle.listenerCount('data') + handle.listenerCount('error') : 0;
    return {
      ...this.listeners.counts,
      state: this.connection.stateListenerCount,
      handle: onHandle,
    };
  }

  /** Opens the HID-POS interface: a scanner also lists keyboard interfaces the OS holds. */
  private async openDevice(): Promise<HidPosHandle> {
    const { hid, path, vendorId, productId } = this.options;
    if (path) return hid.HIDAsync.open(path);

    const listed = await hid.devicesAsync(vendorId, productId);
    const pos = listed.find((device) => device.usagePage === hidPosUsagePage && device.path);
    return pos?.path ? hid.HIDAsync.open(pos.path) : hid.HIDAsync.open(vendorId, productId);
  }

  private async enable(handle: HidPosHandle): Promise<void> {
    const report = this.options.layout.enableFeatureReport;
    if (!report) return;

    await handle.sendFeatureReport([...report]);
    log.debug({ report: report.length }, 'open: enabling feature report sent');
  }

  private onReport(report: Buffer): void {
    this.listeners.deliver(this.parser.push(report, performance.now()));
    this.armGapTimer();
  }

  /** While a code is part-collected, a timer ends it if its next report never comes. */
  private armGapTimer(): void {
    this.stopGapTimer();
    if (!this.parser.pending) return;

    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      this.listeners.deliver(this.parser.expire(performance.now()));
      this.armGapTimer();
    }, this.options.gapMs);
    this.gapTimer.unref();
  }

  private stopGapTimer(): void {
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }
}

function validate(options: HidPosScannerOptions): ResolvedOptions {
  const gapMs = options.gapMs ?? 200;
  const pollMs = options.pollMs ?? 1000;
  if (!(gapMs > 0) || !(pollMs > 0))
    throw new KioskError('config_invalid', 'gapMs and pollMs must be positive');

  return {
    vendorId: options.vendorId,
    productId: options.productId,
    path: options.path,
    layout: resolveHidPosLayout(options.layout ?? 'newland', options.layoutOverrides),
    gapMs,
    pollMs,
    hid: options.hid ?? realHid,
  };
}
