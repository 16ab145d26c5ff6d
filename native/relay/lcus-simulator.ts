/**
 * Plays an LCUS relay board on the device end of a pseudo-terminal pair, so tests, benchmarks
 * and demo kiosks exercise the same bytes a real board would see. It records every frame with
 * the time it arrived and keeps each coil's state, and can play a dead or noisy board.
 */
import { moduleLogger } from '../../app/core/log.js';
import { Recording } from '../testing/simulator-port.js';
import { LcusFrameParser, lcusMaxChannel } from './lcus-protocol.js';
import {
  boardDefaults,
  SimulatedBoard,
  type BoardMode,
  type BoardRejectedBytes,
  type SimulatedBoardOptions,
} from './simulated-board.js';

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
export type RejectedBytes = BoardRejectedBytes;

/** `ignore`: a dead board, bytes vanish. `corrupt`: a noisy line, every frame arrives damaged. */
export type SimulatorMode = BoardMode;

/** How the simulated board is built and wired; `channels` are LCUS-1/2/4/8's, 8 by default. */
export type LcusSimulatorOptions = SimulatedBoardOptions;

/** A simulated LCUS board on a serial port path, usually a PtyPair's `b`. */
export class LcusSimulator extends SimulatedBoard<Required<LcusSimulatorOptions>> {
  private readonly received: Recording<SimulatedFrame>;
  private readonly parser = new LcusFrameParser();

  constructor(path: string, options: LcusSimulatorOptions = {}) {
    super(path, boardDefaults(options, { channels: lcusMaxChannel, baudRate: 9600 }), log);
    this.received = new Recording('relay frame', this.options.maxRecorded);
  }

  /** Every frame acted on since the last clear(), oldest first. */
  frames(): SimulatedFrame[] {
    return this.received.all();
  }

  /** Forgets the recorded frames and rejects; coil states stay as they are. */
  clear(): void {
    this.received.clear();
    this.rejects.clear();
  }

  /** Calls `listener` with each frame acted on; returns the unsubscribe. */
  onFrame(listener: (frame: SimulatedFrame) => void): () => void {
    return this.received.subscribe(listener);
  }

  /** Calls `listener` with each run of bytes thrown away; returns the unsubscribe. */
  onRejected(listener: (rejected: RejectedBytes) => void): () => void {
    return this.rejects.subscribe(listener);
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
    return this.received.waitFor(predicate, { timeoutMs, from });
  }

  /** Listener counts, so tests can prove that reopening does not pile listeners up. */
  listenerCounts(): { frame: number; rejected: number; port: number } {
    return {
      frame: this.received.listenerCount,
      rejected: this.rejects.listenerCount,
      port: this.port.listenerCount,
    };
  }

  protected override opened(): void {
    this.parser.reset();
  }

  protected override receive(chunk: Buffer): void {
    if (!this.hears(chunk)) return;

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
    log.debug({ channel: frame.channel, on: frame.on }, 'frame: applied');
    this.received.add(frame);
  }
}
