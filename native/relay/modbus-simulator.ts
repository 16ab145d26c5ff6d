/**
 * Plays a Modbus RTU relay board on the device end of a pseudo-terminal pair: it answers each
 * write-coil request addressed to it with the echo (or an exception), keeps its coils, releases a
 * flash pulse with its own timer, and can play a dead, noisy or slow board. It records every
 * request and every coil change with the time, so tests can tell what the board was asked for
 * from what it did.
 */
import { KioskError } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import { BoardPort } from './board-port.js';
import { toHex } from './lcus-protocol.js';
import {
  encodeException,
  flashCoilBase,
  flashUnitMs,
  illegalDataAddress,
  illegalDataValue,
  ModbusReplyParser,
  onValueOf,
  type CoilWrite,
  type ModbusOnValue,
} from './modbus-protocol.js';

const log = moduleLogger('relay.modbus-simulator');

/** One write-coil request addressed to the board, with what the board made of it. */
export interface ModbusSimulatedFrame {
  /** Date.now() when the bytes arrived. */
  at: number;
  bytes: Uint8Array;
  write: CoilWrite;
  /** The channel (from 1) it switched; undefined when the board refused it. */
  channel: number | undefined;
  /** The coil state it asked for (a flash asks for on). */
  on: boolean;
  /** How long a flash request closes the relay for; undefined for a plain write. */
  flashMs: number | undefined;
  /** The exception code the board answered with instead of the echo. */
  refused: number | undefined;
}

/** One change the board made to a coil: by a write, by a flash, or by a flash running out. */
export interface CoilSwitch {
  at: number;
  channel: number;
  on: boolean;
  cause: 'write' | 'flash' | 'flash_end';
}

/** Bytes the board threw away (damaged, not addressed to it), with the reason. */
export interface ModbusRejectedBytes {
  at: number;
  error: KioskError;
  bytes: Uint8Array;
}

/**
 * `ignore`: a dead board, bytes vanish. `corrupt`: the board acts on each request but its echo
 * arrives with a damaged CRC, the worst case for a driver.
 */
export type ModbusSimulatorMode = 'normal' | 'ignore' | 'corrupt';

/** How the simulated board is built and wired. */
export interface ModbusSimulatorOptions {
  baudRate?: number;
  /** The board's slave address. */
  address?: number;
  /** The coil of channel 1. */
  coilBase?: 0 | 1;
  /** The value the board takes as on; any other but 00 00 is refused. */
  onValue?: ModbusOnValue;
  /** Relays on the board. */
  channels?: number;
  /** Honours the Waveshare flash coils (0200 + coil); boards without refuse them. */
  flash?: boolean;
  /** Coil state at first open and after every reopen (a re-plugged board lost power). */
  powerUpOn?: boolean;
  /** The contact closes when the coil is released. */
  invertedWiring?: boolean;
  /** Reopen by itself when the pair is replugged. */
  autoReopen?: boolean;
  /** How often to look for the port while waiting for it to (re)appear. */
  pollIntervalMs?: number;
  /** How long open() waits for the port to appear. */
  openTimeoutMs?: number;
  /** Entries kept for frames() and switches(); older ones are dropped. */
  maxRecorded?: number;
}

/** A simulated Modbus relay board on a serial port path, usually a PtyPair's `b`. */
export class ModbusSimulator {
  private readonly port: BoardPort;
  private readonly parser = new ModbusReplyParser();
  private readonly options: Required<ModbusSimulatorOptions>;
  private mode: ModbusSimulatorMode = 'normal';
  private replyDelayMs = 0;
  private ignored = 0;
  private coils: boolean[];
  private readonly flashTimers = new Map<number, NodeJS.Timeout>();
  private readonly replyTimers = new Set<NodeJS.Timeout>();
  private readonly received = new Recording<ModbusSimulatedFrame>();
  private readonly switched = new Recording<CoilSwitch>();
  private rejects: ModbusRejectedBytes[] = [];

  /** Opens a simulator on `path`, waiting for the path to appear if need be. */
  static async open(path: string, options: ModbusSimulatorOptions = {}): Promise<ModbusSimulator> {
    const simulator = new ModbusSimulator(path, options);
    await simulator.open();
    return simulator;
  }

  constructor(
    readonly path: string,
    options: ModbusSimulatorOptions = {},
  ) {
    this.options = withDefaults(options);
    this.coils = this.powerUpCoils();
    this.received.limit = this.switched.limit = this.options.maxRecorded;
    this.port = new BoardPort(
      path,
      this.options,
      {
        data: (chunk) => this.receive(chunk),
        opened: () => this.parser.reset(),
        lost: () => this.powerDown(),
      },
      log,
    );
  }

  /** True while the board's port is open. */
  get isOpen(): boolean {
    return this.port.isOpen;
  }

  /** Opens the port once it exists; rejects with `timeout` if it does not appear in time. */
  async open(): Promise<void> {
    await this.port.open();
  }

  /** Closes the port, stops reopening and drops pending replies and flash timers. */
  async close(): Promise<void> {
    this.stopTimers();
    await this.port.close();
  }

  /** Every request addressed to the board since the last clear(), oldest first. */
  frames(): ModbusSimulatedFrame[] {
    return this.received.all();
  }

  /** Every coil change since the last clear(), oldest first, including flashes running out. */
  switches(): CoilSwitch[] {
    return this.switched.all();
  }

  /** Every run of bytes thrown away since the last clear(). */
  rejected(): ModbusRejectedBytes[] {
    return [...this.rejects];
  }

  /** Bytes dropped unread in `ignore` mode, so a test knows they have arrived. */
  get ignoredBytes(): number {
    return this.ignored;
  }

  /** Forgets the recordings; coil states and running flashes stay. */
  clear(): void {
    this.received.clear();
    this.switched.clear();
    this.rejects = [];
  }

  /** Whether a channel's coil (from 1) is energised. */
  coil(channel: number): boolean {
    return this.coils[channel - 1] ?? false;
  }

  /** Whether a channel's contact is closed (the barrier is being opened), given the wiring. */
  contactClosed(channel: number): boolean {
    return this.coil(channel) !== this.options.invertedWiring;
  }

  /** Sets a coil by hand, e.g. to play a relay stuck on before the driver opens. */
  setCoil(channel: number, on: boolean): void {
    this.coils[channel - 1] = on;
  }

  /** Switches between a working, a dead (`ignore`) and a noisy (`corrupt`) board. */
  setMode(mode: ModbusSimulatorMode): void {
    this.mode = mode;
    log.info({ path: this.path, mode }, 'mode: changed');
  }

  /** Makes the board answer `ms` after each request (0: at once). */
  setReplyDelay(ms: number): void {
    this.replyDelayMs = ms;
  }

  /** Calls `listener` with each request addressed to the board; returns the unsubscribe. */
  onFrame(listener: (frame: ModbusSimulatedFrame) => void): () => void {
    return this.received.subscribe(listener);
  }

  /** Calls `listener` with each coil change; returns the unsubscribe. */
  onSwitch(listener: (change: CoilSwitch) => void): () => void {
    return this.switched.subscribe(listener);
  }

  /** The first request from index `from` of frames() on that matches; `timeout` otherwise. */
  waitForFrame(
    predicate: (frame: ModbusSimulatedFrame) => boolean,
    timeoutMs = 2_000,
    from = 0,
  ): Promise<ModbusSimulatedFrame> {
    return this.received.waitFor(predicate, timeoutMs, from, 'Modbus request');
  }

  /** The first coil change from index `from` of switches() on that matches; `timeout` otherwise. */
  waitForSwitch(
    predicate: (change: CoilSwitch) => boolean,
    timeoutMs = 2_000,
    from = 0,
  ): Promise<CoilSwitch> {
    return this.switched.waitFor(predicate, timeoutMs, from, 'coil change');
  }

  /** Listener counts, so tests can prove that reopening does not pile listeners up. */
  listenerCounts(): { frame: number; switch: number; port: number } {
    return {
      frame: this.received.listenerCount,
      switch: this.switched.listenerCount,
      port: this.port.listenerCount,
    };
  }

  private receive(chunk: Buffer): void {
    if (this.mode === 'ignore') {
      this.ignored += chunk.length;
      return;
    }

    const at = Date.now();
    for (const result of this.parser.push(chunk)) {
      if (result.kind === 'frame') this.request(at, result.frame, result.bytes);
      else if (result.kind === 'error')
        this.reject({ at, error: result.error, bytes: result.bytes });
      else this.reject({ at, error: notARequest(result.bytes), bytes: result.bytes });
    }
  }

  private request(at: number, write: CoilWrite, bytes: Uint8Array): void {
    if (write.address !== this.options.address) {
      const error = new KioskError('bad_frame', `request for board ${write.address}, not for us`);
      this.reject({ at, error, bytes });
      return;
    }

    const frame = this.interpret(at, write, bytes);
    this.received.add(frame);
    if (frame.channel !== undefined) this.apply(frame, frame.channel);
    this.reply(frame.refused === undefined ? bytes : encodeException(write.address, frame.refused));
  }

  /** What the board makes of a request: which channel, on or off, a flash, or a refusal. */
  private interpret(at: number, write: CoilWrite, bytes: Uint8Array): ModbusSimulatedFrame {
    const frame = { at, bytes, write, channel: undefined, on: false, flashMs: undefined };
    const { coilBase, channels, flash } = this.options;
    const flashing = flash && write.coil >= flashCoilBase;
    const channel = write.coil - (flashing ? flashCoilBase : 0) - coilBase + 1;
    if (!Number.isInteger(channel) || channel < 1 || channel > channels)
      return { ...frame, refused: illegalDataAddress };

    if (flashing) {
      if (write.value === 0) return { ...frame, refused: illegalDataValue };
      return {
        ...frame,
        channel,
        on: true,
        flashMs: write.value * flashUnitMs,
        refused: undefined,
      };
    }

    if (write.value === 0) return { ...frame, channel, refused: undefined };
    if (write.value !== onValueOf(this.options.onValue))
      return { ...frame, refused: illegalDataValue };
    return { ...frame, channel, on: true, refused: undefined };
  }

  private apply(frame: ModbusSimulatedFrame, channel: number): void {
    // A plain write overrides a flash still running on the same relay.
    clearTimeout(this.flashTimers.get(channel));
    this.flashTimers.delete(channel);
    this.setSwitch(channel, frame.on, frame.flashMs === undefined ? 'write' : 'flash', frame.at);
    if (frame.flashMs === undefined) return;

    const timer = setTimeout(() => {
      this.flashTimers.delete(channel);
      this.setSwitch(channel, false, 'flash_end', Date.now());
    }, frame.flashMs);
    this.flashTimers.set(channel, timer);
  }

  private setSwitch(channel: number, on: boolean, cause: CoilSwitch['cause'], at: number): void {
    this.coils[channel - 1] = on;
    log.debug({ channel, on, cause }, 'coil: switched');
    this.switched.add({ at, channel, on, cause });
  }

  private reply(bytes: Uint8Array): void {
    const reply = this.mode === 'corrupt' ? damaged(bytes) : bytes;
    if (this.replyDelayMs <= 0) {
      this.port.write(reply);
      return;
    }

    const timer = setTimeout(() => {
      this.replyTimers.delete(timer);
      this.port.write(reply);
    }, this.replyDelayMs);
    this.replyTimers.add(timer);
  }

  private reject(rejected: ModbusRejectedBytes): void {
    this.rejects.push(rejected);
    if (this.rejects.length > this.options.maxRecorded) this.rejects.shift();
    log.debug({ code: rejected.error.code, bytes: toHex(rejected.bytes) }, 'frame: rejected');
  }

  /** Pulling the cable takes the board's power: timers stop and coils return to power-up. */
  private powerDown(): void {
    this.stopTimers();
    this.coils = this.powerUpCoils();
  }

  private stopTimers(): void {
    for (const timer of [...this.flashTimers.values(), ...this.replyTimers]) clearTimeout(timer);
    this.flashTimers.clear();
    this.replyTimers.clear();
  }

  private powerUpCoils(): boolean[] {
    return Array.from({ length: this.options.channels }, () => this.options.powerUpOn);
  }
}

/** A bounded, observable list of records: what both frames() and switches() are made of. */
class Recording<Entry> {
  limit = 10_000;
  private entries: Entry[] = [];
  private readonly listeners = new Set<(entry: Entry) => void>();

  get listenerCount(): number {
    return this.listeners.size;
  }

  all(): Entry[] {
    return [...this.entries];
  }

  clear(): void {
    this.entries = [];
  }

  add(entry: Entry): void {
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.shift();
    for (const listener of [...this.listeners]) listener(entry);
  }

  subscribe(listener: (entry: Entry) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  waitFor(
    predicate: (entry: Entry) => boolean,
    timeoutMs: number,
    from: number,
    what: string,
  ): Promise<Entry> {
    const seen = this.entries.slice(from).find(predicate);
    if (seen) return Promise.resolve(seen);

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new KioskError('timeout', `no matching ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = this.subscribe((entry) => {
        if (!predicate(entry)) return;

        clearTimeout(timer);
        unsubscribe();
        resolve(entry);
      });
    });
  }
}

function withDefaults(options: ModbusSimulatorOptions): Required<ModbusSimulatorOptions> {
  return {
    baudRate: options.baudRate ?? 9600,
    address: options.address ?? 1,
    coilBase: options.coilBase ?? 0,
    onValue: options.onValue ?? 'FF00',
    channels: options.channels ?? 8,
    flash: options.flash ?? true,
    powerUpOn: options.powerUpOn ?? false,
    invertedWiring: options.invertedWiring ?? false,
    autoReopen: options.autoReopen ?? true,
    pollIntervalMs: options.pollIntervalMs ?? 10,
    openTimeoutMs: options.openTimeoutMs ?? 5_000,
    maxRecorded: options.maxRecorded ?? 10_000,
  };
}

/** The reply with the last CRC byte flipped: the board acted, the host cannot tell. */
function damaged(bytes: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[copy.length - 1] ^= 0x01;
  return copy;
}

function notARequest(bytes: Uint8Array): KioskError {
  return new KioskError('bad_frame', `an exception reply is not a request: ${toHex(bytes)}`);
}
