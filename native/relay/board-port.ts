/**
 * The simulated boards' side of the cable: opens the device end of a pseudo-terminal pair once it
 * exists, notices the far end hanging up (also when the port stays silent about it) and, like a
 * board that gets its power back, opens again by itself when the pair is replugged.
 */
import { stat } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { KioskError } from '../../app/common/errors.js';
import type { Logger } from '../../app/core/log.js';
import { deviceChanged, deviceIdentity } from './device-node.js';

/** How a simulated board finds and keeps its port. */
export interface BoardPortOptions {
  baudRate: number;
  /** Reopen by itself when the pair is replugged. */
  autoReopen: boolean;
  /** How often to look for the port while waiting for it to (re)appear. */
  pollIntervalMs: number;
  /** How long open() waits for the port to appear. */
  openTimeoutMs: number;
}

/** What the board does with its port's events. */
export interface BoardPortEvents {
  /** Bytes from the host. */
  data(chunk: Buffer): void;
  /** The port (re)opened: a fresh parser. */
  opened(): void;
  /** The cable was pulled: the board lost its power. */
  lost(): void;
}

/** One simulated board's port on `path`, reopened after every replug until close(). */
export class BoardPort {
  private port: SerialPort | undefined;
  private watcher: NodeJS.Timeout | undefined;
  private closed = false;
  private reopening: Promise<void> | undefined;

  /** `log` names the board kind; `events` are called for data, (re)open and loss. */
  constructor(
    readonly path: string,
    private readonly options: BoardPortOptions,
    private readonly events: BoardPortEvents,
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

  /** Closes the port and stops reopening. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watcher);
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await this.reopening?.catch(() => undefined);
  }

  /** Sends bytes to the host; dropped while unplugged, as a board without a host would. */
  write(bytes: Uint8Array): void {
    const port = this.port;
    if (!port?.isOpen) return;

    port.write(Buffer.from(bytes), (error) => {
      if (error) this.log.debug({ err: error.message }, 'write: reply lost');
    });
  }

  private async openWhenPresent(deadline: number): Promise<void> {
    while (!this.closed) {
      const port = await this.tryOpen();
      if (port) return this.attach(port);

      if (Date.now() > deadline) {
        throw new KioskError('timeout', `simulated relay port ${this.path} did not appear`);
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
      const port = new SerialPort({
        path: this.path,
        baudRate: this.options.baudRate,
        autoOpen: false,
      });
      port.open((error) => resolve(error ? undefined : port));
    });
  }

  private attach(port: SerialPort): void {
    if (this.closed) {
      port.close();
      return;
    }

    this.port = port;
    this.events.opened();
    port.on('data', (chunk: Buffer) => this.events.data(chunk));
    port.on('error', (error: Error) => this.lost(port, error));
    port.on('close', () => this.lost(port));
    void this.watch(port);
    this.log.info({ path: this.path }, 'open: board listening');
  }

  /** The far end hanging up is not always reported on this end: look at the path as well. */
  private async watch(port: SerialPort): Promise<void> {
    const openedAs = await deviceIdentity(this.path);
    if (port !== this.port) return;

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
    this.events.lost();
    if (port.isOpen) port.close();
    this.log.info({ path: this.path, err: error?.message }, 'close: board unplugged');
    if (this.closed || !this.options.autoReopen) return;

    // A replug may take long: there is no deadline here, only close() stops the search.
    this.reopening = this.openWhenPresent(Number.POSITIVE_INFINITY).finally(() => {
      this.reopening = undefined;
    });
  }
}
