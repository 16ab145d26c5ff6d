/**
 * Driver for LCUS-1/2/4/8 USB relay boards (CH340 serial, 9600 8N1). The board has no pulse mode
 * and never answers, so the driver sends on, waits and sends off, and after every (re)open sends
 * off again: a board that re-enumerated mid-pulse comes back in whatever state it powers up in.
 */
import { SerialPort } from 'serialport';
import { KioskError, hasCode } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import type { DeviceState, RelayDriver } from '../../app/core/ports.js';
import { DeviceStateHolder, RetryTimer, type StateListener } from '../device-state.js';
import { deviceChanged, deviceIdentity } from './device-node.js';
import { encodeLcusFrame, lcusMaxChannel } from './lcus-protocol.js';

const log = moduleLogger('relay.lcus');

// A four-byte write that has not finished by then will not: the port is as good as gone.
const writeTimeoutMs = 2_000;

/** How to reach the board and which of its channels opens the barrier. */
export interface LcusRelayOptions {
  /** Serial port path, e.g. /dev/ttyUSB0 or COM3. */
  port: string;
  baudRate?: number;
  /** The channel wired to the barrier, from 1. */
  channel: number;
  /** The board is wired so that a released coil closes the contact: swap on and off. */
  invert?: boolean;
  /** How often to try reopening a lost port, and to check that an open one is still there. */
  reconnectIntervalMs?: number;
  /**
   * How many channels the board has (1, 2, 4 or 8). Channels 1..boardChannels are all driven off
   * on every (re)open. Left out, only `channel` is: sending frames for channels a board lacks is
   * not described by any maker, and the kiosk drives nothing but its own channel anyway.
   */
  boardChannels?: number;
}

/** An LCUS relay channel as the core's RelayDriver: pulses only, driven off on every open. */
export class LcusRelay implements RelayDriver {
  private port: SerialPort | undefined;
  private portIdentity: string | undefined;
  // Bumped on every connect and every loss, so a pulse asked for before either can tell.
  private generation = 0;
  private closed = true;
  private connecting = false;
  private pulses: Promise<void> = Promise.resolve();
  private readonly interrupts = new Set<() => void>();
  private readonly options: Required<LcusRelayOptions>;
  private readonly status: DeviceStateHolder;
  private readonly ticker: RetryTimer;

  constructor(options: LcusRelayOptions) {
    this.options = validate(options);
    this.status = new DeviceStateHolder(log, {
      port: this.options.port,
      channel: this.options.channel,
    });
    this.ticker = new RetryTimer(this.options.reconnectIntervalMs, () => this.tick(), log);
  }

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
    const run = this.pulses.then(() => this.runPulse(ms, generation));
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
  listenerCounts(): { state: number; port: number } {
    const port = this.port;
    const portListeners = port
      ? ['data', 'error', 'close'].reduce((sum, event) => sum + port.listenerCount(event), 0)
      : 0;
    return { state: this.status.listenerCount, port: portListeners };
  }

  private async runPulse(ms: number, generation: number): Promise<void> {
    const port = this.portFor(generation);
    await this.send(port, this.frame(true));

    const completed = await this.waitWhileUp(ms, generation);

    // Sent even when interrupted by close(); after a loss the reopen drives off instead. An LCUS
    // board has no pulse of its own, so a board cut off mid-pulse keeps its contact closed until
    // the port returns: boards with a hardware pulse (Modbus flash mode) are issue 4.
    if (this.port === port) await this.send(port, this.frame(false));
    if (!completed)
      throw new KioskError('disconnected', 'relay port lost or closed during a pulse');
  }

  private portFor(generation: number): SerialPort {
    const port = this.port;
    if (!port || this.closed || this.state !== 'connected' || this.generation !== generation) {
      throw this.notConnected();
    }

    return port;
  }

  /** Resolves true after `ms`, or false as soon as the port is lost or the driver closed. */
  private waitWhileUp(ms: number, generation: number): Promise<boolean> {
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

  private interruptWaits(): void {
    for (const interrupt of [...this.interrupts]) interrupt();
  }

  private async tick(): Promise<void> {
    if (this.closed || this.connecting) return;

    if (this.port) await this.checkPresence(this.port);
    else await this.tryConnect();
  }

  /** One attempt to open and drive off; returns the error instead of throwing. */
  private async tryConnect(): Promise<KioskError | undefined> {
    this.connecting = true;
    try {
      await this.connect();
      return undefined;
    } catch (cause) {
      const error = asConnectError(cause, this.options.port);
      if (!this.port && !this.closed)
        this.status.set(hasCode(error, 'port_busy') ? 'error' : 'disconnected', error);
      return error;
    } finally {
      this.connecting = false;
    }
  }

  private async connect(): Promise<void> {
    const port = await openPort(this.options);
    if (this.closed) {
      await closePort(port);
      throw new KioskError('disconnected', 'relay closed while its port was opening');
    }

    this.attach(port);
    this.portIdentity = await deviceIdentity(this.options.port);
    if (this.port !== port) throw new KioskError('disconnected', 'relay port lost while opening');

    this.status.set('connecting');
    await this.driveAllOff(port);
    if (this.closed || this.port !== port) {
      throw new KioskError('disconnected', 'relay port lost or closed while driving off');
    }

    this.generation += 1;
    this.status.set('connected');
  }

  private attach(port: SerialPort): void {
    this.port = port;
    // Reading keeps the binding polling the port, which is how it notices an unplug; boards
    // that answer anything (status replies) are not needed.
    port.on('data', () => undefined);
    port.on('error', (error: Error) => this.lost(port, error));
    port.on('close', (error?: Error) => this.lost(port, error ?? new Error('port closed')));
  }

  private async driveAllOff(port: SerialPort): Promise<void> {
    for (const channel of this.channelsToDriveOff()) {
      await this.send(port, encodeLcusFrame({ channel, on: this.options.invert }));
    }
  }

  private channelsToDriveOff(): number[] {
    const { boardChannels, channel } = this.options;
    if (boardChannels === 0) return [channel];

    return Array.from({ length: boardChannels }, (_, index) => index + 1);
  }

  private frame(closed: boolean): Uint8Array {
    return encodeLcusFrame({ channel: this.options.channel, on: closed !== this.options.invert });
  }

  /** Writes and waits for the bytes to leave; any failure means the port is gone. */
  private async send(port: SerialPort, bytes: Uint8Array): Promise<void> {
    try {
      if (!port.isOpen) throw new Error('port is not open');
      await withTimeout(writeAndDrain(port, bytes), writeTimeoutMs, 'write');
    } catch (cause) {
      this.lost(port, cause instanceof Error ? cause : new Error(String(cause)));
      throw new KioskError('disconnected', `relay port ${this.options.port} failed a write`, {
        cause,
      });
    }
  }

  /** serialport does not always notice an unplug; a vanished or replaced device node is proof. */
  private async checkPresence(port: SerialPort): Promise<void> {
    const now = await deviceIdentity(this.options.port);
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

    const error = new KioskError(
      'disconnected',
      `relay port ${this.options.port} lost: ${cause.message}`,
      {
        cause,
      },
    );
    this.status.set('disconnected', error);
  }

  private forget(): void {
    this.port = undefined;
    this.generation += 1;
  }

  private notConnected(): KioskError {
    return new KioskError('disconnected', `relay on ${this.options.port} is ${this.state}`);
  }
}

function validate(options: LcusRelayOptions): Required<LcusRelayOptions> {
  const channelOk = (value: number): boolean =>
    Number.isInteger(value) && value >= 1 && value <= lcusMaxChannel;
  if (!channelOk(options.channel)) {
    throw new KioskError(
      'config_invalid',
      `relay channel must be 1..${lcusMaxChannel}, got ${options.channel}`,
    );
  }

  const boardChannels = options.boardChannels;
  if (
    boardChannels !== undefined &&
    (!channelOk(boardChannels) || options.channel > boardChannels)
  ) {
    throw new KioskError(
      'config_invalid',
      `boardChannels must be 1..${lcusMaxChannel} and include the channel`,
    );
  }

  const reconnectIntervalMs = options.reconnectIntervalMs ?? 1_000;
  if (!(reconnectIntervalMs > 0))
    throw new KioskError('config_invalid', 'reconnectIntervalMs must be positive');

  return {
    port: options.port,
    baudRate: options.baudRate ?? 9600,
    channel: options.channel,
    invert: options.invert ?? false,
    reconnectIntervalMs,
    boardChannels: options.boardChannels ?? 0,
  };
}

function openPort(options: Required<LcusRelayOptions>): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({
      path: options.port,
      baudRate: options.baudRate,
      autoOpen: false,
    });
    port.open((error) => (error ? reject(error) : resolve(port)));
  });
}

function closePort(port: SerialPort): Promise<void> {
  if (!port.isOpen) return Promise.resolve();

  return new Promise((resolve) => port.close(() => resolve()));
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
    {
      cause,
    },
  );
}
