/**
 * What every serial relay board driver does alike: open the port and drive the board off before
 * saying `connected`, notice an unplug (also when serialport stays silent), reopen by itself, and
 * run pulses one at a time so that none asked for before a loss, a fault or a reconnect is ever
 * carried out after it. The boards differ only in their frames and in whether they answer.
 */
import { SerialPort } from 'serialport';
import { KioskError, hasCode } from '../../app/common/errors.js';
import type { Logger } from '../../app/core/log.js';
import type { DeviceState, RelayDriver } from '../../app/core/ports.js';
import { DeviceStateHolder, RetryTimer, type StateListener } from '../device-state.js';
import { deviceChanged, deviceIdentity } from './device-node.js';

// A frame-sized write that has not finished by then will not: the port is as good as gone.
const writeTimeoutMs = 2_000;

/** How to reach a board; every driver takes these. */
export interface SerialLinkOptions {
  /** Serial port path, e.g. /dev/ttyUSB0 or COM3. */
  port: string;
  baudRate?: number;
  /** How often to try reopening a lost port, and to check that an open one is still there. */
  reconnectIntervalMs?: number;
  /**
   * A pulse that waited longer than this for its turn (behind other pulses) is dropped, not
   * carried out late. Default 5000 ms.
   */
  staleAfterMs?: number;
}

/** The link options with their defaults applied. */
export type SerialLink = Required<SerialLinkOptions>;

/** Listener counts, so tests can prove that reconnects do not pile listeners up. */
export interface RelayListenerCounts {
  state: number;
  port: number;
}

/** A relay board on a serial port, as the core's RelayDriver; subclasses supply the frames. */
export abstract class SerialRelay implements RelayDriver {
  private port: SerialPort | undefined;
  private portIdentity: string | undefined;
  // Bumped on every connect, loss and fault, so a pulse asked for before any of them can tell.
  private generation = 0;
  private closed = true;
  private connecting = false;
  private pulses: Promise<void> = Promise.resolve();
  private readonly interrupts = new Set<() => void>();
  private readonly status: DeviceStateHolder;
  private readonly ticker: RetryTimer;

  /** `device` names the board in every state log line, e.g. its port and channel. */
  constructor(
    protected readonly link: SerialLink,
    protected readonly log: Logger,
    device: Record<string, unknown>,
  ) {
    this.status = new DeviceStateHolder(log, device);
    this.ticker = new RetryTimer(link.reconnectIntervalMs, () => this.tick(), log);
  }

  /** Drives every channel the driver knows of off; rejects if the port failed meanwhile. */
  protected abstract driveAllOff(port: SerialPort): Promise<void>;

  /** Carries out one pulse on the port of `generation` (see portFor). */
  protected abstract runPulse(ms: number, generation: number): Promise<void>;

  /** Bytes from the board; boards that never answer need not look at them. */
  protected receive(_chunk: Buffer): void {}

  /** A port was opened (or the old one is gone): forget anything half received. */
  protected portChanged(): void {}

  /** The port state; `connected` only once every known channel has been driven off. */
  get state(): DeviceState {
    return this.status.state;
  }

  /**
   * Opens the port and drives the channels off. When the board is absent it rejects with a
   * `disconnected` KioskError but keeps trying in the background until close(): a kiosk that
   * boots without its relay must still come up, and gain the relay when it is plugged in.
   */
  async open(): Promise<void> {
    if (!this.closed) return;

    this.closed = false;
    this.ticker.start();
    this.status.set('connecting');

    const error = await this.tryConnect();
    if (error) throw error;
  }

  /** Closes the contact for `ms`, then opens it; rejects `disconnected` if the port is not up. */
  pulse(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms <= 0) {
      return Promise.reject(
        new KioskError('bad_payload', `pulse length must be positive, got ${ms}`),
      );
    }

    if (this.state !== 'connected') return Promise.reject(this.notConnected());

    // Taken now, so a pulse queued behind another never runs on a port that reconnected since.
    const generation = this.generation;
    const askedAt = Date.now();
    const run = this.pulses.then(() => {
      this.refuseIfStale(askedAt);
      return this.runPulse(ms, generation);
    });
    this.pulses = run.catch(() => undefined);
    return run;
  }

  /** Subscribes to state changes; returns the unsubscribe. */
  onStateChange(listener: StateListener): () => void {
    return this.status.subscribe(listener);
  }

  /** Ends a pulse in progress (sending off), drives the channels off and closes the port. */
  async close(): Promise<void> {
    if (this.closed) return;

    this.closed = true;
    this.ticker.stop();
    this.interruptWaits();
    await this.pulses;

    const port = this.port;
    this.forget();
    if (port) {
      await this.driveAllOff(port).catch(() => undefined);
      await closePort(port);
    }

    this.status.set('disconnected');
  }

  /** Listener counts, so tests can prove that reconnects do not pile listeners up. */
  listenerCounts(): RelayListenerCounts {
    const port = this.port;
    const portListeners = port
      ? ['data', 'error', 'close'].reduce((sum, event) => sum + port.listenerCount(event), 0)
      : 0;
    return { state: this.status.listenerCount, port: portListeners };
  }

  /** The port of `generation`; rejects `disconnected` once it is lost, faulted or closed. */
  protected portFor(generation: number): SerialPort {
    const port = this.port;
    if (!port || this.closed || this.state !== 'connected' || this.generation !== generation) {
      throw this.notConnected();
    }

    return port;
  }

  /** True while `port` is the driver's port (not lost, not closed over). */
  protected isCurrent(port: SerialPort): boolean {
    return this.port === port;
  }

  /** Resolves true after `ms`, or false as soon as the port is lost, faulted or closed. */
  protected waitWhileUp(ms: number, generation: number): Promise<boolean> {
    // close() or a loss may have come while the on frame was being written.
    if (this.generation !== generation || this.closed) return Promise.resolve(false);

    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.interrupts.delete(finish);
        resolve(this.generation === generation && !this.closed);
      };
      const timer = setTimeout(finish, ms);
      this.interrupts.add(finish);
    });
  }

  /** Writes and waits for the bytes to leave; any failure means the port is gone. */
  protected async send(port: SerialPort, bytes: Uint8Array): Promise<void> {
    try {
      if (!port.isOpen) throw new Error('port is not open');
      await withTimeout(writeAndDrain(port, bytes), writeTimeoutMs, 'write');
    } catch (cause) {
      this.lost(port, cause instanceof Error ? cause : new Error(String(cause)));
      throw new KioskError('disconnected', `relay port ${this.link.port} failed a write`, {
        cause,
      });
    }
  }

  /**
   * The board misbehaved on a port that is still open (it did not answer, or answered wrong):
   * pending and queued pulses are void, the state is `error`, and the retry loop drives the board
   * off again until it answers.
   */
  protected fault(port: SerialPort, error: KioskError): void {
    if (port !== this.port || this.closed) return;

    this.generation += 1;
    this.interruptWaits();
    this.status.set('error', error);
  }

  private refuseIfStale(askedAt: number): void {
    const waitedMs = Date.now() - askedAt;
    if (waitedMs <= this.link.staleAfterMs) return;

    this.log.warn({ port: this.link.port, waitedMs }, 'pulse: dropped as stale');
    throw new KioskError('timeout', `pulse waited ${waitedMs} ms for its turn: dropped as stale`);
  }

  private interruptWaits(): void {
    for (const interrupt of [...this.interrupts]) interrupt();
  }

  private async tick(): Promise<void> {
    if (this.closed || this.connecting) return;

    if (!this.port) {
      await this.tryConnect();
      return;
    }

    await this.checkPresence(this.port);
    if (this.port && this.state !== 'connected') await this.trySettle(this.port);
  }

  /** One attempt to open and drive off; returns the error instead of throwing. */
  private async tryConnect(): Promise<KioskError | undefined> {
    return this.attempt(async () => {
      const port = await this.connect();
      await this.settle(port);
    });
  }

  /** One more attempt to drive off a board that faulted on an open port. */
  private async trySettle(port: SerialPort): Promise<void> {
    await this.attempt(() => this.settle(port));
  }

  private async attempt(work: () => Promise<void>): Promise<KioskError | undefined> {
    this.connecting = true;
    try {
      await work();
      return undefined;
    } catch (cause) {
      const error = asConnectError(cause, this.link.port);
      if (!this.port && !this.closed)
        this.status.set(hasCode(error, 'port_busy') ? 'error' : 'disconnected', error);
      return error;
    } finally {
      this.connecting = false;
    }
  }

  private async connect(): Promise<SerialPort> {
    const port = await openPort(this.link);
    if (this.closed) {
      await closePort(port);
      throw new KioskError('disconnected', 'relay closed while its port was opening');
    }

    // Bytes the system kept from before (a reply to a request of an earlier session) are void.
    await flushPort(port);
    this.attach(port);
    this.portIdentity = await deviceIdentity(this.link.port);
    if (this.port !== port) throw new KioskError('disconnected', 'relay port lost while opening');

    this.status.set('connecting');
    return port;
  }

  private async settle(port: SerialPort): Promise<void> {
    await this.driveAllOff(port);
    if (this.closed || this.port !== port) {
      throw new KioskError('disconnected', 'relay port lost or closed while driving off');
    }

    this.generation += 1;
    this.status.set('connected');
  }

  private attach(port: SerialPort): void {
    this.port = port;
    this.portChanged();
    // Reading also keeps the binding polling the port, which is how it notices an unplug.
    port.on('data', (chunk: Buffer) => {
      if (this.port === port) this.receive(chunk);
    });
    port.on('error', (error: Error) => this.lost(port, error));
    port.on('close', (error?: Error) => this.lost(port, error ?? new Error('port closed')));
  }

  /** serialport does not always notice an unplug; a vanished or replaced device node is proof. */
  private async checkPresence(port: SerialPort): Promise<void> {
    const now = await deviceIdentity(this.link.port);
    if (port === this.port && deviceChanged(this.portIdentity, now)) {
      this.lost(
        port,
        new Error(now === 'missing' ? 'device node vanished' : 'device node replaced'),
      );
    }
  }

  private lost(port: SerialPort, cause: Error): void {
    if (port !== this.port) return;

    this.forget();
    this.interruptWaits();
    void closePort(port);
    if (this.closed) return;

    const message = `relay port ${this.link.port} lost: ${cause.message}`;
    this.status.set('disconnected', new KioskError('disconnected', message, { cause }));
  }

  private forget(): void {
    this.port = undefined;
    this.generation += 1;
    this.portChanged();
  }

  private notConnected(): KioskError {
    return new KioskError('disconnected', `relay on ${this.link.port} is ${this.state}`);
  }
}

/** Applies the link defaults and refuses values that cannot work. */
export function linkOptions(options: SerialLinkOptions): SerialLink {
  const reconnectIntervalMs = options.reconnectIntervalMs ?? 1_000;
  if (!(reconnectIntervalMs > 0))
    throw new KioskError('config_invalid', 'reconnectIntervalMs must be positive');

  const staleAfterMs = options.staleAfterMs ?? 5_000;
  if (!(staleAfterMs > 0)) throw new KioskError('config_invalid', 'staleAfterMs must be positive');

  return {
    port: options.port,
    baudRate: options.baudRate ?? 9600,
    reconnectIntervalMs,
    staleAfterMs,
  };
}

function openPort(link: SerialLink): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path: link.port, baudRate: link.baudRate, autoOpen: false });
    port.open((error) => (error ? reject(error) : resolve(port)));
  });
}

function closePort(port: SerialPort): Promise<void> {
  if (!port.isOpen) return Promise.resolve();

  return new Promise((resolve) => port.close(() => resolve()));
}

function flushPort(port: SerialPort): Promise<void> {
  // A port that cannot flush still works; the echo check catches what a flush would have caught.
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

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KioskError('timeout', `${what} took over ${ms} ms`)), ms);
  });

  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function asConnectError(cause: unknown, path: string): KioskError {
  if (cause instanceof KioskError) return cause;

  const message = cause instanceof Error ? cause.message : String(cause);
  // Another process holding the port is a setup fault a technician must see, not an unplug.
  const busy = /busy|lock|temporarily unavailable/i.test(message);
  return new KioskError(
    busy ? 'port_busy' : 'disconnected',
    `cannot open relay port ${path}: ${message}`,
    { cause },
  );
}
