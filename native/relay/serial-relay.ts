/**
 * What every serial relay board driver does alike: open the port and drive the board off before
 * saying `connected`, notice an unplug (also when serialport stays silent), reopen by itself, and
 * run pulses one at a time so that none asked for before a loss, a fault or a reconnect is ever
 * carried out after it. The boards differ only in their frames and in whether they answer.
 */
import type { SerialPort } from 'serialport';
import { KioskError } from '../../app/common/errors.js';
import type { Logger } from '../../app/core/log.js';
import type { DeviceState, RelayDriver } from '../../app/core/ports.js';
import type { StateListener } from '../device-state.js';
import { SerialConnection, type SerialListenerCounts } from '../serial-connection.js';

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
export type RelayListenerCounts = SerialListenerCounts;

/** A relay board on a serial port, as the core's RelayDriver; subclasses supply the frames. */
export abstract class SerialRelay implements RelayDriver {
  // Bumped on every connect, loss and fault, so a pulse asked for before any of them can tell.
  private generation = 0;
  private pulses: Promise<void> = Promise.resolve();
  private readonly interrupts = new Set<() => void>();
  private readonly connection: SerialConnection;

  /** `device` names the board in every state log line, e.g. its port and channel. */
  constructor(
    protected readonly link: SerialLink,
    protected readonly log: Logger,
    device: Record<string, unknown>,
  ) {
    const { port: path, baudRate, reconnectIntervalMs } = link;
    const options = { path, baudRate, reconnectIntervalMs, name: 'relay', device };
    this.connection = new SerialConnection(
      // Bytes kept from before (a reply to a request of an earlier session) are void; a board
      // that does not answer its drive-off keeps its port, and is driven off again at each check.
      { ...options, writeTimeoutMs, flushOnOpen: true, keepPortOnFailedHandshake: true },
      log,
      {
        handshake: (port) => this.settle(port),
        data: (chunk) => this.receive(chunk),
        reset: () => this.forget(),
        lost: () => this.interruptWaits(),
        closing: () => this.finishPulses(),
        farewell: (port) => this.driveAllOff(port),
      },
    );
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
    return this.connection.state;
  }

  /**
   * Opens the port and drives the channels off. When the board is absent it rejects with a
   * `disconnected` KioskError but keeps trying in the background until close(): a kiosk that
   * boots without its relay must still come up, and gain the relay when it is plugged in.
   */
  open(): Promise<void> {
    return this.connection.open();
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
    return this.connection.onStateChange(listener);
  }

  /** Ends a pulse in progress (sending off), drives the channels off and closes the port. */
  close(): Promise<void> {
    return this.connection.close();
  }

  /** Listener counts, so tests can prove that reconnects do not pile listeners up. */
  listenerCounts(): RelayListenerCounts {
    return this.connection.listenerCounts();
  }

  /** The port of `generation`; rejects `disconnected` once it is lost, faulted or closed. */
  protected portFor(generation: number): SerialPort {
    const port = this.connection.port;
    if (!port || this.isDown(generation) || this.state !== 'connected') throw this.notConnected();

    return port;
  }

  /** True while `port` is the driver's port (not lost, not closed over). */
  protected isCurrent(port: SerialPort): boolean {
    return this.connection.isCurrent(port);
  }

  /** Resolves true after `ms`, or false as soon as the port is lost, faulted or closed. */
  protected waitWhileUp(ms: number, generation: number): Promise<boolean> {
    // close() or a loss may have come while the on frame was being written.
    if (this.isDown(generation)) return Promise.resolve(false);

    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.interrupts.delete(finish);
        resolve(!this.isDown(generation));
      };
      const timer = setTimeout(finish, ms);
      this.interrupts.add(finish);
    });
  }

  /** Writes and waits for the bytes to leave; any failure means the port is gone. */
  protected send(port: SerialPort, bytes: Uint8Array): Promise<void> {
    return this.connection.write(port, bytes);
  }

  /**
   * The board misbehaved on a port that is still open (it did not answer, or answered wrong):
   * pending and queued pulses are void, the state is `error`, and the retry loop drives the board
   * off again until it answers.
   */
  protected fault(port: SerialPort, error: KioskError): void {
    if (!this.connection.isCurrent(port) || this.connection.isClosed) return;

    this.generation += 1;
    this.interruptWaits();
    this.connection.reportFault(error);
  }

  /** True once the port of `generation` is lost, faulted or closed. */
  private isDown(generation: number): boolean {
    return this.generation !== generation || this.connection.isClosed;
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

  /** close() began: a pulse in progress ends early (sending off) and queued ones are refused. */
  private async finishPulses(): Promise<void> {
    this.interruptWaits();
    await this.pulses;
  }

  /** The handshake of a new port, and again after a fault: every channel off. */
  private async settle(port: SerialPort): Promise<void> {
    await this.driveAllOff(port);
    this.generation += 1;
  }

  private forget(): void {
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
