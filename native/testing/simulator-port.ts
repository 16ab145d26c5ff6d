/**
 * The device side of the cable, as every simulator plays it: opens the device end of a
 * pseudo-terminal pair once it exists, notices the far end hanging up (also when the port stays
 * silent about it) and, like a device that gets its power back, opens again by itself when the
 * pair is replugged. Beside it, the bounded and observable record a simulator keeps of its wire.
 */
import { stat } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { KioskError } from '../../app/common/errors.js';
import type { Logger } from '../../app/core/log.js';
import { deviceChanged, deviceIdentity } from '../device-node.js';

/** The options every simulator takes beside its own; simulatorDefaults() fills them in. */
export interface SimulatorOptions {
  /** Line speed; each simulator has the default of the device it plays. */
  baudRate?: number;
  /** Reopen by itself when the pair is replugged. Default true. */
  autoReopen?: boolean;
  /** How often to look for the port while waiting for it to (re)appear. Default 10. */
  pollIntervalMs?: number;
  /** How long open() waits for the port to appear. Default 5000. */
  openTimeoutMs?: number;
  /** Entries kept per record; older ones are dropped so a long demo stays small. Default 10000. */
  maxRecorded?: number;
}

/** `options` with every shared option set, the line speed to `baudRate` unless given. */
export function simulatorDefaults(
  options: SimulatorOptions,
  baudRate: number,
): Required<SimulatorOptions> {
  return {
    baudRate: options.baudRate ?? baudRate,
    autoReopen: options.autoReopen ?? true,
    pollIntervalMs: options.pollIntervalMs ?? 10,
    openTimeoutMs: options.openTimeoutMs ?? 5_000,
    maxRecorded: options.maxRecorded ?? 10_000,
  };
}

/** How a simulator finds and keeps its port. */
export interface SimulatorPortOptions {
  /** What the device is called in errors and log lines, e.g. `ID card`. */
  name: string;
  baudRate: number;
  /** Reopen by itself when the pair is replugged. */
  autoReopen: boolean;
  /** How often to look for the port while waiting for it to (re)appear. */
  pollIntervalMs: number;
  /** How long open() waits for the port to appear. */
  openTimeoutMs: number;
}

/** What the simulator does with its port's events. */
export interface SimulatorPortEvents {
  /** Bytes from the host. */
  data(chunk: Buffer): void;
  /** The port (re)opened: a fresh parser. */
  opened?(): void;
  /** The cable was pulled: the device lost its power. */
  lost?(): void;
}

/** One simulator's port on `path`, reopened after every replug until close(). */
export class SimulatorPort {
  private port: SerialPort | undefined;
  private watcher: NodeJS.Timeout | undefined;
  private closed = false;
  private reopening: Promise<void> | undefined;
  private readonly openListeners = new Set<() => void>();
  private readonly pendingWrites = new Set<() => void>();

  /** `log` is the simulator's; `events` are called for data, (re)open and loss. */
  constructor(
    readonly path: string,
    private readonly options: SimulatorPortOptions,
    private readonly events: SimulatorPortEvents,
    private readonly log: Logger,
  ) {}

  /** True while the port is open. */
  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  /** Listeners on the open port (0 while there is none). */
  get listenerCount(): number {
    const port = this.port;
    if (!port) return 0;

    return ['data', 'error', 'close'].reduce((sum, event) => sum + port.listenerCount(event), 0);
  }

  /** Opens the port once it exists; rejects with `timeout` if it does not appear in time. */
  async open(): Promise<void> {
    this.closed = false;
    await this.openWhenPresent(Date.now() + this.options.openTimeoutMs);
  }

  /** Closes the port, fails writes still pending and stops reopening. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watcher);
    this.failPendingWrites();
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await this.reopening?.catch(() => undefined);
  }

  /** Resolves the next time the port is (re)opened, or at once while it is open. */
  whenOpen(timeoutMs = 5_000): Promise<void> {
    if (this.isOpen) return Promise.resolve();

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.openListeners.delete(opened);
        reject(
          new KioskError('timeout', `simulated ${this.options.name} ${this.path} did not reopen`),
        );
      }, timeoutMs);
      const opened = (): void => {
        clearTimeout(timer);
        this.openListeners.delete(opened);
        resolve();
      };
      this.openListeners.add(opened);
    });
  }

  /** Sends bytes to the host; dropped while unplugged, as a device without a host would. */
  write(bytes: Uint8Array): void {
    const port = this.port;
    if (!port?.isOpen) return;

    port.write(Buffer.from(bytes), (error) => {
      if (error) this.log.debug({ err: error.message }, 'write: reply lost');
    });
  }

  /**
   * Sends bytes to the host and resolves once written; rejects with `disconnected` while
   * unplugged or when the port is lost before the write is done. It never drains: a pty moves
   * bytes at once, and tcdrain on a pty whose far end has gone can block a libuv worker for good.
   */
  async send(bytes: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) {
      throw new KioskError(
        'disconnected',
        `simulated ${this.options.name} ${this.path} is not open`,
      );
    }

    await new Promise<void>((resolve, reject) => {
      const lost = (): void => reject(new KioskError('disconnected', 'unplugged while writing'));
      this.pendingWrites.add(lost);
      port.write(Buffer.from(bytes), (error) => {
        this.pendingWrites.delete(lost);
        if (error) reject(error);
        else resolve();
      });
    });
  }

  private async openWhenPresent(deadline: number): Promise<void> {
    while (!this.closed) {
      const port = await this.tryOpen();
      if (port) return this.attach(port);

      if (Date.now() > deadline) {
        const { name } = this.options;
        throw new KioskError('timeout', `simulated ${name} port ${this.path} did not appear`);
      }

      await new Promise((resolve) => setTimeout(resolve, this.options.pollIntervalMs));
    }
  }

  private async tryOpen(): Promise<SerialPort | undefined> {
    const present = await stat(this.path).then(
      () => true,
      () => false,
    );
    if (!present) return undefined;

    return new Promise((resolve) => {
      const { baudRate } = this.options;
      const port = new SerialPort({ path: this.path, baudRate, autoOpen: false });
      port.open((error) => resolve(error ? undefined : port));
    });
  }

  private attach(port: SerialPort): void {
    if (this.closed) {
      port.close();
      return;
    }

    this.port = port;
    this.events.opened?.();
    port.on('data', (chunk: Buffer) => this.events.data(chunk));
    port.on('error', (error: Error) => this.lost(port, error));
    port.on('close', () => this.lost(port));
    void this.watch(port);
    this.log.info({ path: this.path }, `open: ${this.options.name} listening`);
    for (const listener of [...this.openListeners]) listener();
  }

  /** The far end hanging up is not always reported on this end: look at the path as well. */
  private async watch(port: SerialPort): Promise<void> {
    const openedAs = await deviceIdentity(this.path);
    if (port !== this.port) return;

    // Unplugged straight after opening: there is no identity to compare later ones with.
    if (openedAs === 'missing') return this.lost(port, new Error('device node gone'));

    this.watcher = setInterval(() => {
      void deviceIdentity(this.path).then((now) => {
        if (deviceChanged(openedAs, now))
          this.lost(port, new Error('device node gone or replaced'));
      });
    }, this.options.pollIntervalMs);
    this.watcher.unref();
  }

  private lost(port: SerialPort, error?: Error): void {
    if (port !== this.port) return;

    this.port = undefined;
    clearInterval(this.watcher);
    this.failPendingWrites();
    this.events.lost?.();
    if (port.isOpen) port.close();
    const { name } = this.options;
    this.log.info({ path: this.path, err: error?.message }, `close: ${name} unplugged`);
    if (this.closed || !this.options.autoReopen) return;

    // A replug may take long: there is no deadline here, only close() stops the search.
    this.reopening = this.openWhenPresent(Number.POSITIVE_INFINITY).finally(() => {
      this.reopening = undefined;
    });
  }

  private failPendingWrites(): void {
    for (const fail of [...this.pendingWrites]) fail();
    this.pendingWrites.clear();
  }
}

/**
 * What every simulator does with its port the same way: open it once it appears, keep it across
 * replugs and close it. A simulator supplies its name and what it does with the host's bytes,
 * and may override what happens when the port (re)opens and when the cable goes.
 */
export abstract class PortSimulator {
  protected readonly port: SimulatorPort;

  /** Builds a simulator on `path` and opens it, waiting for the path to appear if need be. */
  static async open<Simulator extends PortSimulator, Options>(
    this: new (path: string, options?: Options) => Simulator,
    path: string,
    options?: Options,
  ): Promise<Simulator> {
    const simulator = new this(path, options);
    await simulator.open();
    return simulator;
  }

  /** `log` is the simulator's own, for the port's log lines too. */
  constructor(
    readonly path: string,
    options: SimulatorPortOptions,
    protected readonly log: Logger,
  ) {
    this.port = new SimulatorPort(
      path,
      options,
      {
        data: (chunk) => this.receive(chunk),
        opened: () => this.opened(),
        lost: () => this.lost(),
      },
      log,
    );
  }

  /** True while the port is open. */
  get isOpen(): boolean {
    return this.port.isOpen;
  }

  /** Opens the port once it exists; rejects with `timeout` if it does not appear in time. */
  async open(): Promise<void> {
    await this.port.open();
  }

  /** Closes the port and stops reopening. */
  async close(): Promise<void> {
    await this.port.close();
  }

  /** Bytes from the host. */
  protected abstract receive(chunk: Buffer): void;

  /** The port (re)opened: nothing by default. */
  protected opened(): void {}

  /** The cable was pulled and the device lost its power: nothing by default. */
  protected lost(): void {}
}

/** What Recording.waitFor() looks through, and for how long. */
export interface WaitForOptions {
  /** Resolve with the `count`th match. Default 1. */
  count?: number;
  /** Look from this index of all() on. Default 0. */
  from?: number;
  /** Default 2000. */
  timeoutMs?: number;
}

/** A bounded, observable list of what a simulator saw or did, oldest first. */
export class Recording<Entry> {
  private entries: Entry[] = [];
  private readonly listeners = new Set<(entry: Entry) => void>();

  /** `what` names an entry in the timeout error; the oldest entry goes beyond `limit` entries. */
  constructor(
    private readonly what: string,
    private readonly limit: number,
  ) {}

  /** Listeners subscribed now. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Every entry since the last clear(), oldest first. */
  all(): Entry[] {
    return [...this.entries];
  }

  /** Forgets the entries; listeners stay. */
  clear(): void {
    this.entries = [];
  }

  /** Records `entry` and calls the listeners with it. */
  add(entry: Entry): void {
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.shift();
    for (const listener of [...this.listeners]) listener(entry);
  }

  /** Calls `listener` with each entry added; returns the unsubscribe. */
  subscribe(listener: (entry: Entry) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Resolves with the `count`th entry matching `predicate` from index `from` on (recorded already
   * or still to come); rejects with `timeout` after `timeoutMs`.
   */
  waitFor(predicate: (entry: Entry) => boolean, options: WaitForOptions = {}): Promise<Entry> {
    const { count = 1, from = 0, timeoutMs = 2_000 } = options;
    const seen = this.entries.slice(from).filter(predicate);
    if (seen.length >= count) return Promise.resolve(seen[count - 1]);

    let missing = count - seen.length;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new KioskError('timeout', `no matching ${this.what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = this.subscribe((entry) => {
        if (!predicate(entry) || --missing > 0) return;

        clearTimeout(timer);
        unsubscribe();
        resolve(entry);
      });
    });
  }
}
