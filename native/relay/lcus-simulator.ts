/**
 * Plays an LCUS relay board on the device end of a pseudo-terminal pair, so tests, benchmarks
 * and demo kiosks exercise the same bytes a real board would see. It records every frame with
 * the time it arrived and keeps each coil's state, and can play a dead or noisy board.
 */
import { KioskError } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import { BoardPort } from './board-port.js';
import { LcusFrameParser, lcusMaxChannel, toHex } from './lcus-protocol.js';

const log = moduleLogger('relay.simulator');

/** One frame the board received and acted on. `on` is the coil state the frame asked for. */
export interface SimulatedFrame {
  /** Date.now() when the bytes arrived. */
  at: number;
  channel: number;
  on: boolean;
  bytes: Uint8Array;
}

/** Bytes the board threw away, with the reason (KioskError `checksum` or `bad_frame`). */
export interface RejectedBytes {
  at: number;
  error: KioskError;
  bytes: Uint8Array;
}

/** `ignore`: a dead board, bytes vanish. `corrupt`: a noisy line, every frame arrives damaged. */
export type SimulatorMode = 'normal' | 'ignore' | 'corrupt';

/** How the simulated board is built and wired. */
export interface LcusSimulatorOptions {
  baudRate?: number;
  /** Channels on the board (LCUS-1/2/4/8). */
  channels?: number;
  /**
   * Coil state when the board powers up, at first open and after every reopen (a re-enumerated
   * board lost power): `true` plays the worst case, a board that comes up with its relays on.
   */
  powerUpOn?: boolean;
  /** The contact closes when the coil is released (boards a driver must run with `invert`). */
  invertedWiring?: boolean;
  /** Reopen by itself when the pair is replugged. */
  autoReopen?: boolean;
  /** How often to look for the port while waiting for it to (re)appear. */
  pollIntervalMs?: number;
  /** How long open() waits for the port to appear. */
  openTimeoutMs?: number;
  /** Frames kept for frames(); older ones are dropped so a long-running demo stays small. */
  maxRecorded?: number;
}

/** A simulated LCUS board on a serial port path, usually a PtyPair's `b`. */
export class LcusSimulator {
  private readonly port: BoardPort;
  private mode: SimulatorMode = 'normal';
  private ignored = 0;
  private coils: boolean[];
  private received: SimulatedFrame[] = [];
  private rejects: RejectedBytes[] = [];
  private readonly parser = new LcusFrameParser();
  private readonly frameListeners = new Set<(frame: SimulatedFrame) => void>();
  private readonly rejectListeners = new Set<(rejected: RejectedBytes) => void>();
  private readonly options: Required<LcusSimulatorOptions>;

  /** Opens a simulator on `path`, waiting for the path to appear if need be. */
  static async open(path: string, options: LcusSimulatorOptions = {}): Promise<LcusSimulator> {
    const simulator = new LcusSimulator(path, options);
    await simulator.open();
    return simulator;
  }

  constructor(
    readonly path: string,
    options: LcusSimulatorOptions = {},
  ) {
    this.options = {
      baudRate: options.baudRate ?? 9600,
      channels: options.channels ?? lcusMaxChannel,
      powerUpOn: options.powerUpOn ?? false,
      invertedWiring: options.invertedWiring ?? false,
      autoReopen: options.autoReopen ?? true,
      pollIntervalMs: options.pollIntervalMs ?? 10,
      openTimeoutMs: options.openTimeoutMs ?? 5_000,
      maxRecorded: options.maxRecorded ?? 10_000,
    };
    this.coils = this.powerUpCoils();
    this.port = new BoardPort(
      path,
      this.options,
      {
        data: (chunk) => this.receive(chunk),
        opened: () => this.parser.reset(),
        // Pulling the cable takes the board's power: it comes back in its power-up state.
        lost: () => (this.coils = this.powerUpCoils()),
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

  /** Closes the port and stops reopening. */
  async close(): Promise<void> {
    await this.port.close();
  }

  /** Every frame acted on since the last clear(), oldest first. */
  frames(): SimulatedFrame[] {
    return [...this.received];
  }

  /** Every run of bytes thrown away since the last clear(). */
  rejected(): RejectedBytes[] {
    return [...this.rejects];
  }

  /** Bytes dropped unread in `ignore` mode, so a test knows they have arrived. */
  get ignoredBytes(): number {
    return this.ignored;
  }

  /** Forgets the recorded frames and rejects; coil states stay as they are. */
  clear(): void {
    this.received = [];
    this.rejects = [];
  }

  /** Whether a channel's coil is energised. */
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
  setMode(mode: SimulatorMode): void {
    this.mode = mode;
    log.info({ path: this.path, mode }, 'mode: changed');
  }

  /** Calls `listener` with each frame acted on; returns the unsubscribe. */
  onFrame(listener: (frame: SimulatedFrame) => void): () => void {
    this.frameListeners.add(listener);
    return () => {
      this.frameListeners.delete(listener);
    };
  }

  /** Calls `listener` with each run of bytes thrown away; returns the unsubscribe. */
  onRejected(listener: (rejected: RejectedBytes) => void): () => void {
    this.rejectListeners.add(listener);
    return () => {
      this.rejectListeners.delete(listener);
    };
  }

  /**
   * Resolves with the first frame from index `from` of frames() on (already received or still
   * to come) that matches; rejects with `timeout` after `timeoutMs`.
   */
  waitForFrame(
    predicate: (frame: SimulatedFrame) => boolean,
    timeoutMs = 2_000,
    from = 0,
  ): Promise<SimulatedFrame> {
    const seen = this.received.slice(from).find(predicate);
    if (seen) return Promise.resolve(seen);

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new KioskError('timeout', `no matching relay frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = this.onFrame((frame) => {
        if (!predicate(frame)) return;

        clearTimeout(timer);
        unsubscribe();
        resolve(frame);
      });
    });
  }

  /** Listener counts, so tests can prove that reopening does not pile listeners up. */
  listenerCounts(): { frame: number; rejected: number; port: number } {
    return {
      frame: this.frameListeners.size,
      rejected: this.rejectListeners.size,
      port: this.port.listenerCount,
    };
  }

  private receive(chunk: Buffer): void {
    if (this.mode === 'ignore') {
      this.ignored += chunk.length;
      return;
    }

    // Flipping the low bit of every byte but the start byte breaks each frame's parity sum.
    const bytes =
      this.mode === 'corrupt' ? chunk.map((byte) => (byte === 0xa0 ? byte : byte ^ 0x01)) : chunk;
    const at = Date.now();
    for (const result of this.parser.push(bytes)) {
      if (result.kind === 'frame') this.apply({ at, ...result.frame, bytes: result.bytes });
      else this.reject({ at, error: result.error, bytes: result.bytes });
    }
  }

  private apply(frame: SimulatedFrame): void {
    if (frame.channel <= this.options.channels) this.coils[frame.channel - 1] = frame.on;
    this.received.push(frame);
    if (this.received.length > this.options.maxRecorded) this.received.shift();
    log.debug({ channel: frame.channel, on: frame.on }, 'frame: applied');
    for (const listener of [...this.frameListeners]) listener(frame);
  }

  private reject(rejected: RejectedBytes): void {
    this.rejects.push(rejected);
    if (this.rejects.length > this.options.maxRecorded) this.rejects.shift();
    log.debug({ code: rejected.error.code, bytes: toHex(rejected.bytes) }, 'frame: rejected');
    for (const listener of [...this.rejectListeners]) listener(rejected);
  }

  private powerUpCoils(): boolean[] {
    return Array.from({ length: this.options.channels }, () => this.options.powerUpOn);
  }
}
