/**
 * Driver for barcode/QR scanners in HID-POS mode (usage page 8C) read through node-hid. Reports
 * are joined into codes by HidPosParser for the configured vendor layout; a layout that needs it
 * gets its enabling feature report after every open, since a replugged scanner forgets it.
 *
 * node-hid reports an unplug only as an `error` from its read: the driver then closes the handle,
 * looks for the device again every `pollMs` and reopens it when it is back.
 */
import * as nodeHid from 'node-hid';
import { KioskError } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import type { DeviceState } from '../../app/core/ports.js';
import type { HidDeviceInfo, HidHandle } from '../button/hid-button.js';
import { DeviceStateHolder, RetryTimer, type StateListener } from '../device-state.js';
import {
  HidPosParser,
  resolveHidPosLayout,
  type HidPosLayout,
  type HidPosLayoutName,
  type HidPosResult,
} from './hid-pos-parser.js';
import type { ScannerScan } from '../../app/common/scanner-scan.js';
import {
  notifyAll,
  subscribe,
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
export interface HidPosModule {
  HIDAsync: {
    open(path: string): Promise<HidPosHandle>;
    open(vendorId: number, productId: number): Promise<HidPosHandle>;
  };
  devicesAsync(vendorId: number, productId: number): Promise<HidPosDeviceInfo[]>;
}

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
  private handle: HidPosHandle | undefined;
  private closed = true;
  private gapTimer: NodeJS.Timeout | undefined;
  private readonly scanListeners = new Set<ScanListener>();
  private readonly errorListeners = new Set<ScanErrorListener>();
  private readonly options: ResolvedOptions;
  private readonly parser: HidPosParser;
  private readonly status: DeviceStateHolder;
  private readonly poller: RetryTimer;

  constructor(options: HidPosScannerOptions) {
    this.options = validate(options);
    this.parser = new HidPosParser(this.options.layout, this.options.gapMs);
    this.status = new DeviceStateHolder(log, { device: this.describe() });
    this.poller = new RetryTimer(this.options.pollMs, () => this.poll(), log);
  }

  /** `connected` while the device is open, enabled and being read. */
  get state(): DeviceState {
    return this.status.state;
  }

  /**
   * Opens and enables the device. When it is absent this rejects with `disconnected` but keeps
   * looking until close(): a kiosk that boots without its scanner gains it when plugged in.
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

  onScan(listener: ScanListener): () => void {
    return subscribe(this.scanListeners, listener);
  }

  onError(listener: ScanErrorListener): () => void {
    return subscribe(this.errorListeners, listener);
  }

  onStateChange(listener: StateListener): () => void {
    return this.status.subscribe(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;

    this.closed = true;
    this.poller.stop();
    this.stopGapTimer();
    this.parser.reset();
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await release(handle);

    this.status.set('disconnected');
  }

  /** Listener counts, so tests can prove that reconnects do not pile listeners up. */
  listenerCounts(): { scan: number; error: number; state: number; handle: number } {
    const handle = this.handle;
    const onHandle = handle ? handle.listenerCount('data') + handle.listenerCount('error') : 0;
    return {
      scan: this.scanListeners.size,
      error: this.errorListeners.size,
      state: this.status.listenerCount,
      handle: onHandle,
    };
  }

  /** One attempt to open and enable the device; returns the error instead of throwing. */
  private async tryConnect(): Promise<KioskError | undefined> {
    let handle: HidPosHandle | undefined;
    try {
      handle = await this.openDevice();
      if (this.closed) {
        await release(handle);
        return undefined;
      }

      this.attach(handle);
      await this.enable(handle);
      if (this.handle !== handle) throw new Error('device lost while it was being enabled');

      this.poller.stop();
      this.status.set('connected');
      return undefined;
    } catch (cause) {
      return this.connectFailed(handle, cause);
    }
  }

  private async connectFailed(
    handle: HidPosHandle | undefined,
    cause: unknown,
  ): Promise<KioskError | undefined> {
    if (handle && handle === this.handle) {
      this.handle = undefined;
      await release(handle);
    }
    if (this.closed) return undefined;

    const error = new KioskError('disconnected', `scanner ${this.describe()} not available`, {
      cause,
    });
    this.status.set('disconnected', error);
    return error;
  }

  /** Opens the HID-POS interface: a scanner also lists keyboard interfaces the OS holds. */
  private async openDevice(): Promise<HidPosHandle> {
    const { hid, path, vendorId, productId } = this.options;
    if (path) return hid.HIDAsync.open(path);

    const listed = await hid.devicesAsync(vendorId, productId);
    const pos = listed.find((device) => device.usagePage === hidPosUsagePage && device.path);
    return pos?.path ? hid.HIDAsync.open(pos.path) : hid.HIDAsync.open(vendorId, productId);
  }

  private attach(handle: HidPosHandle): void {
    this.handle = handle;
    this.parser.reset();
    handle.on('data', (report: Buffer) => this.onReport(handle, report));
    handle.on('error', (error: Error) => void this.onLost(handle, error));
  }

  private async enable(handle: HidPosHandle): Promise<void> {
    const report = this.options.layout.enableFeatureReport;
    if (!report) return;

    await handle.sendFeatureReport([...report]);
    log.debug({ report: report.length }, 'open: enabling feature report sent');
  }

  private onReport(handle: HidPosHandle, report: Buffer): void {
    if (handle !== this.handle) return;

    this.deliver(this.parser.push(report, performance.now()));
    this.armGapTimer();
  }

  /** While a code is part-collected, a timer ends it if its next report never comes. */
  private armGapTimer(): void {
    this.stopGapTimer();
    if (!this.parser.pending) return;

    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      this.deliver(this.parser.expire(performance.now()));
      this.armGapTimer();
    }, this.options.gapMs);
    this.gapTimer.unref();
  }

  private stopGapTimer(): void {
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }

  private deliver(results: readonly HidPosResult[]): void {
    for (const result of results) {
      if (result.kind === 'scan') this.emitScan(result.scan);
      else this.emitError(result.error);
    }
  }

  private emitScan(scan: ScannerScan): void {
    // The text may be a pass or personal data: only its size and charset reach the log.
    log.info({ bytes: scan.bytes.length, charset: scan.charset }, 'scan: code read');
    notifyAll(this.scanListeners, scan, (error) =>
      log.error({ err: error }, 'scan: a listener threw'),
    );
  }

  private emitError(error: KioskError): void {
    log.warn({ code: error.code, reason: error.message }, 'report: input dropped');
    notifyAll(this.errorListeners, error, (thrown) =>
      log.error({ err: thrown }, 'report: an error listener threw'),
    );
  }

  /** node-hid's only sign of an unplug: its read failed. */
  private async onLost(handle: HidPosHandle, cause: Error): Promise<void> {
    if (handle !== this.handle || this.closed) return;

    this.handle = undefined;
    this.stopGapTimer();
    this.parser.reset();
    const error = new KioskError('disconnected', `scanner ${this.describe()} lost`, { cause });
    this.status.set('disconnected', error);
    this.poller.start();
    await release(handle);
  }

  /** Reopens the device once node-hid lists it again. */
  private async poll(): Promise<void> {
    if (this.closed || this.handle) return;

    if ((await this.isListed()) && !this.closed && !this.handle) await this.tryConnect();
  }

  private async isListed(): Promise<boolean> {
    const { hid, vendorId, productId, path } = this.options;
    try {
      const devices = await hid.devicesAsync(vendorId, productId);
      return devices.some((device) => path === undefined || device.path === path);
    } catch (error) {
      log.debug({ err: error }, 'poll: listing HID devices failed');
      return false;
    }
  }

  private describe(): string {
    const { vendorId, productId, path } = this.options;
    return path ?? `${hex(vendorId)}:${hex(productId)}`;
  }
}

/**
 * Closes a handle whose read may still be pending. Our listeners go first; a no-op error listener
 * stays, so a read interrupted by the close and reported after it cannot crash the process.
 */
async function release(handle: HidPosHandle): Promise<void> {
  handle.removeAllListeners();
  handle.on('error', () => undefined);

  try {
    await handle.close();
  } catch (error) {
    log.debug({ err: error }, 'close: device close failed (already gone)');
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

function hex(value: number): string {
  return `0x${value.toString(16).padStart(4, '0')}`;
}
