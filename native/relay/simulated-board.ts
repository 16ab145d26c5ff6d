/**
 * What the simulated relay boards (LCUS and Modbus) have in common beside their port: coils that
 * come up in their power-up state after every replug, wiring that may be inverted, a dead or a
 * noisy mode, and a record of the bytes the board threw away.
 */
import type { KioskError } from '../../app/common/errors.js';
import type { Logger } from '../../app/core/log.js';
import {
  PortSimulator,
  Recording,
  simulatorDefaults,
  type SimulatorOptions,
} from '../testing/simulator-port.js';
import { toHex } from './lcus-protocol.js';

/** Bytes a board threw away, with the reason (KioskError `checksum` or `bad_frame`). */
export interface BoardRejectedBytes {
  at: number;
  error: KioskError;
  bytes: Uint8Array;
}

/** `normal`: a working board. `ignore`: a dead board, bytes vanish. `corrupt`: a noisy line. */
export type BoardMode = 'normal' | 'ignore' | 'corrupt';

/** How a simulated relay board is built and wired. */
export interface SimulatedBoardOptions extends SimulatorOptions {
  /** Relays on the board. */
  channels?: number;
  /**
   * Coil state when the board powers up, at first open and after every reopen (a re-enumerated
   * board lost power): `true` plays the worst case, a board that comes up with its relays on.
   */
  powerUpOn?: boolean;
  /** The contact closes when the coil is released (boards a driver must run with `invert`). */
  invertedWiring?: boolean;
}

/** `options` with every board option set; `channels` and `baudRate` are the board kind's. */
export function boardDefaults(
  options: SimulatedBoardOptions,
  kind: { channels: number; baudRate: number },
): Required<SimulatedBoardOptions> {
  return {
    ...simulatorDefaults(options, kind.baudRate),
    channels: options.channels ?? kind.channels,
    powerUpOn: options.powerUpOn ?? false,
    invertedWiring: options.invertedWiring ?? false,
  };
}

/** A simulated relay board on a serial port path, usually a PtyPair's `b`. */
export abstract class SimulatedBoard<
  Options extends Required<SimulatedBoardOptions>,
> extends PortSimulator {
  protected mode: BoardMode = 'normal';
  protected coils: boolean[];
  protected readonly rejects: Recording<BoardRejectedBytes>;
  private ignored = 0;

  /** `options` with their defaults filled in; `log` is the board kind's. */
  constructor(
    path: string,
    protected readonly options: Options,
    log: Logger,
  ) {
    super(path, { ...options, name: 'relay' }, log);
    this.coils = this.powerUpCoils();
    this.rejects = new Recording('rejected bytes', options.maxRecorded);
  }

  /** Every run of bytes thrown away since the last clear(). */
  rejected(): BoardRejectedBytes[] {
    return this.rejects.all();
  }

  /** Bytes dropped unread in `ignore` mode, so a test knows they have arrived. */
  get ignoredBytes(): number {
    return this.ignored;
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
  setMode(mode: BoardMode): void {
    this.mode = mode;
    this.log.info({ path: this.path, mode }, 'mode: changed');
  }

  /** Pulling the cable takes the board's power: it comes back in its power-up state. */
  protected override lost(): void {
    this.coils = this.powerUpCoils();
  }

  /** False, counting the bytes, while the board plays dead; true when it is to read them. */
  protected hears(chunk: Buffer): boolean {
    if (this.mode !== 'ignore') return true;

    this.ignored += chunk.length;
    return false;
  }

  protected reject(rejected: BoardRejectedBytes): void {
    this.log.debug({ code: rejected.error.code, bytes: toHex(rejected.bytes) }, 'frame: rejected');
    this.rejects.add(rejected);
  }

  private powerUpCoils(): boolean[] {
    return Array.from({ length: this.options.channels }, () => this.options.powerUpOn);
  }
}
