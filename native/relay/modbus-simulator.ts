/**
 * Plays a Modbus RTU relay board on the device end of a pseudo-terminal pair: it answers each
 * write-coil request addressed to it with the echo (or an exception), keeps its coils, releases a
 * flash pulse with its own timer, and can play a dead, noisy or slow board. It records every
 * request and every coil change with the time, so tests can tell what the board was asked for
 * from what it did.
 */
import { KioskError } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import { Recording } from '../testing/simulator-port.js';
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
import {
  boardDefaults,
  SimulatedBoard,
  type BoardMode,
  type BoardRejectedBytes,
  type SimulatedBoardOptions,
} from './simulated-board.js';

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
export type ModbusRejectedBytes = BoardRejectedBytes;

/**
 * `ignore`: a dead board, bytes vanish. `corrupt`: the board acts on each request but its echo
 * arrives with a damaged CRC, the worst case for a driver.
 */
export type ModbusSimulatorMode = BoardMode;

/** How the simulated board is built and wired; 8 channels by default. */
export interface ModbusSimulatorOptions extends SimulatedBoardOptions {
  /** The board's slave address. */
  address?: number;
  /** The coil of channel 1. */
  coilBase?: 0 | 1;
  /** The value the board takes as on; any other but 00 00 is refused. */
  onValue?: ModbusOnValue;
  /** Honours the Waveshare flash coils (0200 + coil); boards without refuse them. */
  flash?: boolean;
}

/** A simulated Modbus relay board on a serial port path, usually a PtyPair's `b`. */
export class ModbusSimulator extends SimulatedBoard<Required<ModbusSimulatorOptions>> {
  private readonly parser = new ModbusReplyParser();
  private replyDelayMs = 0;
  private readonly flashTimers = new Map<number, NodeJS.Timeout>();
  private readonly replyTimers = new Set<NodeJS.Timeout>();
  private readonly received: Recording<ModbusSimulatedFrame>;
  private readonly switched: Recording<CoilSwitch>;

  constructor(path: string, options: ModbusSimulatorOptions = {}) {
    super(path, withDefaults(options), log);
    this.received = new Recording('Modbus request', this.options.maxRecorded);
    this.switched = new Recording('coil change', this.options.maxRecorded);
  }

  /** Closes the port, stops reopening and drops pending replies and flash timers. */
  override async close(): Promise<void> {
    this.stopTimers();
    await super.close();
  }

  /** Every request addressed to the board since the last clear(), oldest first. */
  frames(): ModbusSimulatedFrame[] {
    return this.received.all();
  }

  /** Every coil change since the last clear(), oldest first, including flashes running out. */
  switches(): CoilSwitch[] {
    return this.switched.all();
  }

  /** Forgets the recordings; coil states and running flashes stay. */
  clear(): void {
    this.received.clear();
    this.switched.clear();
    this.rejects.clear();
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
    return this.received.waitFor(predicate, { timeoutMs, from });
  }

  /** The first coil change from index `from` of switches() on that matches; `timeout` otherwise. */
  waitForSwitch(
    predicate: (change: CoilSwitch) => boolean,
    timeoutMs = 2_000,
    from = 0,
  ): Promise<CoilSwitch> {
    return this.switched.waitFor(predicate, { timeoutMs, from });
  }

  /** Listener counts, so tests can prove that reopening does not pile listeners up. */
  listenerCounts(): { frame: number; switch: number; port: number } {
    return {
      frame: this.received.listenerCount,
      switch: this.switched.listenerCount,
      port: this.port.listenerCount,
    };
  }

  protected override opened(): void {
    this.parser.reset();
  }

  protected override receive(chunk: Buffer): void {
    if (!this.hears(chunk)) return;

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

  /** Pulling the cable takes the board's power: timers stop and coils return to power-up. */
  protected override lost(): void {
    this.stopTimers();
    super.lost();
  }

  private stopTimers(): void {
    for (const timer of [...this.flashTimers.values(), ...this.replyTimers]) clearTimeout(timer);
    this.flashTimers.clear();
    this.replyTimers.clear();
  }
}

function withDefaults(options: ModbusSimulatorOptions): Required<ModbusSimulatorOptions> {
  return {
    ...boardDefaults(options, { channels: 8, baudRate: 9600 }),
    address: options.address ?? 1,
    coilBase: options.coilBase ?? 0,
    onValue: options.onValue ?? 'FF00',
    flash: options.flash ?? true,
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
