/**
 * What every serial driver (relay boards, ID card reader, serial scanner) does alike around its
 * port: open it, hold the connection state, notice an unplug (also when serialport stays silent,
 * by the device node behind the path), reopen by itself and close safely. The driver keeps its
 * protocol: it is handed the bytes read, talks a new port up in its handshake, and is told when
 * the port is lost.
 */
import { SerialPort } from 'serialport';
import { KioskError } from '../app/common/errors.js';
import type { Logger } from '../app/core/log.js';
import type { DeviceState } from '../app/core/ports.js';
import { deviceChanged, deviceIdentity } from './device-node.js';
import { DeviceStateHolder, RetryTimer, type StateListener } from './device-state.js';

/** Where the port is, its line settings, and how the connection behaves. */
export interface SerialConnectionOptions {
  /** Serial port path, e.g. /dev/ttyUSB0 or COM3. */
  path: string;
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
  /** How often to try reopening a lost port, and to check that an open one is still there. */
  reconnectIntervalMs: number;
  /** The device in error messages, e.g. `relay` in "relay port /dev/ttyUSB0 lost". */
  name: string;
  /** Names the device in every state log line, e.g. its port and channel. */
  device: Record<string, unknown>;
  /** A write whose bytes have not left by then means the port is gone. Default 1000 ms. */
  writeTimeoutMs?: number;
  /** Drops bytes the system kept from before the open, e.g. a reply to an earlier session. */
  flushOnOpen?: boolean;
  /**
   * After a failed handshake, keep the port and retry the handshake on it at each check (a board
   * that did not answer yet), instead of closing the port and opening it anew.
   */
  keepPortOnFailedHandshake?: boolean;
}

/** What the driver does on the connection's events; every one is optional. */
export interface SerialConnectionHandlers {
  /** Talks a newly opened port up; `connected` follows once it resolves, a rejection fails it. */
  handshake?(port: SerialPort): Promise<void>;
  /** Bytes read from the current port. */
  data?(chunk: Buffer): void;
  /** A port was attached or forgotten: anything half received is void. */
  reset?(): void;
  /** The port was lost: work waiting on it must end with `error`. */
  lost?(error: KioskError): void;
  /** close() began: end the work in flight; the port is still there. */
  closing?(): Promise<void>;
  /** The last writes before close() closes the port, e.g. driving a relay off; failures ignored. */
  farewell?(port: SerialPort): Promise<void>;
}

/** Listener counts, so tests can prove that reconnects do not pile listeners up. */
export interface SerialListenerCounts {
  state: number;
  port: number;
}

/** One driver's serial port, kept open while the driver is. */
export class SerialConnection {
  private current: SerialPort | undefined;
  private identity: string | undefined;
  private closed = true;
  private connecting = false;
  private readonly status: DeviceStateHolder;
  private readonly ticker: RetryTimer;
  private readonly writeTimeoutMs: number;

  constructor(
    private readonly options: SerialConnectionOptions,
    log: Logger,
    private readonly handlers: SerialConnectionHandlers = {},
  ) {
    this.status = new DeviceStateHolder(log, options.device);
    this.ticker = new RetryTimer(options.reconnectIntervalMs, () => this.tick(), log);
    this.writeTimeoutMs = options.writeTimeoutMs ?? 1_000;
  }

  /** `connected` once the port is open and its handshake, if any, has passed. */
  get state(): DeviceState {
    return this.status.state;
  }

  /** The open port, until it is lost or closed. */
  get port(): SerialPort | undefined {
    return this.current;
  }

  /** True from close() until the next open(). */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Opens the port. When the device is absent it rejects (`disconnected`, or `port_busy` when
   * another process holds it) but keeps trying in the background until close().
   */
  async open(): Promise<void> {
    if (!this.closed) return;

    this.closed = false;
    this.ticker.start();
    this.status.set('connecting');

    const error = await this.attempt(() => this.connect());
    if (error) throw error;
  }

  /** Stops reconnecting, lets the driver end its work and say goodbye, then closes the port. */
  async close(): Promise<void> {
    if (this.closed) return;

    this.closed = true;
    this.ticker.stop();
    await this.handlers.closing?.();

    const port = this.current;
    this.forget();
    if (port) {
      await this.handlers.farewell?.(port).catch(() => undefined);
      await closePort(port);
    }

    this.status.set('disconnected');
  }

  /** Subscribes to state changes; returns the unsubscribe. */
  onStateChange(listener: StateListener): () => void {
    return this.status.subscribe(listener);
  }

  /** True while `port` is the connection's port (not lost, not closed over). */
  isCurrent(port: SerialPort): boolean {
    return this.current === port;
  }

  /** Writes and waits for the bytes to leave; any failure means the port is gone. */
  async write(port: SerialPort, bytes: Uint8Array): Promise<void> {
    try {
      if (!port.isOpen) throw new Error('port is not open');
      await withTimeout(writeAndDrain(port, bytes), this.writeTimeoutMs);
    } catch (cause) {
      this.lost(port, cause instanceof Error ? cause : new Error(String(cause)));
      throw new KioskError('disconnected', `${this.describe()} failed a write`, { cause });
    }
  }

  /** The device misbehaved on a port that is still open: the state is `error` until it recovers. */
  reportFault(error: KioskError): void {
    this.status.set('error', error);
  }

  /** serialport does not always notice an unplug; a vanished or replaced device node is proof. */
  async checkPresence(): Promise<void> {
    const port = this.current;
    if (!port) return;

    const now = await deviceIdentity(this.options.path);
    if (port !== this.current || !deviceChanged(this.identity, now)) return;

    this.lost(port, new Error(now === 'missing' ? 'device node vanished' : 'device node replaced'));
  }

  /** Listener counts, so tests can prove that reconnects do not pile listeners up. */
  listenerCounts(): SerialListenerCounts {
    const port = this.current;
    const onPort = port
      ? ['data', 'error', 'close'].reduce((sum, event) => sum + port.listenerCount(event), 0)
      : 0;
    return { state: this.status.listenerCount, port: onPort };
  }

  private async tick(): Promise<void> {
    if (this.closed || this.connecting) return;

    const port = this.current;
    if (!port) {
      await this.attempt(() => this.connect());
      return;
    }

    await this.checkPresence();
    if (this.current === port && this.state !== 'connected' && this.handlers.handshake) {
      await this.attempt(() => this.greet(port));
    }
  }

  /** Runs one connect or handshake; returns its error instead of throwing. */
  private async attempt(work: () => Promise<void>): Promise<KioskError | undefined> {
    this.connecting = true;
    try {
      await work();
      return undefined;
    } catch (cause) {
      const error = asConnectError(cause, `${this.options.name} port ${this.options.path}`);
      this.failed(error);
      return error;
    } finally {
      this.connecting = false;
    }
  }

  private async connect(): Promise<void> {
    const port = await openPort(this.options);
    if (this.closed) {
      await closePort(port);
      throw new KioskError(
        'disconnected',
        `${this.options.name} closed while its port was opening`,
      );
    }

    if (this.options.flushOnOpen) await flushPort(port);
    this.attach(port);
    this.identity = await deviceIdentity(this.options.path);
    if (this.current !== port) throw this.lostWhile('opening');

    if (this.handlers.handshake) this.status.set('connecting');
    await this.greet(port);
  }

  /** The handshake, if any, then `connected`; a retry on a kept port stays in `error` meanwhile. */
  private async greet(port: SerialPort): Promise<void> {
    if (this.handlers.handshake) {
      await this.handlers.handshake(port);
      if (this.closed || this.current !== port) throw this.lostWhile('talking to the device');
    }

    this.status.set('connected');
  }

  /** A failed connect or handshake: a port kept open is in `error`, else it is closed again. */
  private failed(error: KioskError): void {
    const port = this.current;
    if (port && !this.options.keepPortOnFailedHandshake) {
      this.forget();
      void closePort(port);
    }
    if (this.closed) return;

    const absent = !this.current && error.code === 'disconnected';
    this.status.set(absent ? 'disconnected' : 'error', error);
  }

  private attach(port: SerialPort): void {
    this.current = port;
    this.handlers.reset?.();
    // Reading also keeps the binding polling the port, which is how it notices an unplug.
    port.on('data', (chunk: Buffer) => {
      if (this.current === port) this.handlers.data?.(chunk);
    });
    port.on('error', (error: Error) => this.lost(port, error));
    port.on('close', (error?: Error) => this.lost(port, error ?? new Error('port closed')));
  }

  private lost(port: SerialPort, cause: Error): void {
    if (port !== this.current) return;

    const error = new KioskError('disconnected', `${this.describe()} lost: ${cause.message}`, {
      cause,
    });
    this.forget();
    this.handlers.lost?.(error);
    void closePort(port);
    if (!this.closed) this.status.set('disconnected', error);
  }

  private forget(): void {
    this.current = undefined;
    this.identity = undefined;
    this.handlers.reset?.();
  }

  private lostWhile(what: string): KioskError {
    return new KioskError('disconnected', `${this.describe()} lost or closed while ${what}`);
  }

  private describe(): string {
    return `${this.options.name} port ${this.options.path}`;
  }
}

function openPort(options: SerialConnectionOptions): Promise<SerialPort> {
  const { path, baudRate, dataBits, parity, stopBits } = options;
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, dataBits, parity, stopBits, autoOpen: false });
    port.open((error) => (error ? reject(error) : resolve(port)));
  });
}

function closePort(port: SerialPort): Promise<void> {
  if (!port.isOpen) return Promise.resolve();

  return new Promise((resolve) => port.close(() => resolve()));
}

function flushPort(port: SerialPort): Promise<void> {
  // A port that cannot flush still works; a protocol's own checks catch what a flush would have.
  return new Promise((resolve) => port.flush(() => resolve()));
}

function writeAndDrain(port: SerialPort, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    port.write(Buffer.from(bytes), (writeError) => {
      if (writeError) return reject(writeError);

      port.drain((drainError) => (drainError ? reject(drainError) : resolve()));
    });
  });
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KioskError('timeout', `write took over ${ms} ms`)), ms);
  });

  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function asConnectError(cause: unknown, port: string): KioskError {
  if (cause instanceof KioskError) return cause;

  const message = cause instanceof Error ? cause.message : String(cause);
  // Another process holding the port is a setup fault a technician must see, not an unplug.
  const busy = /busy|lock|temporarily unavailable/i.test(message);
  return new KioskError(busy ? 'port_busy' : 'disconnected', `cannot open ${port}: ${message}`, {
    cause,
  });
}
