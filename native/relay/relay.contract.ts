/**
 * The behaviour every relay setup must show, run against the simulated board and, when
 * KIOSK_TEST_RELAY_PORT names one, a real LCUS board. Checks that need to see the board's side or
 * to pull its cable run only where the harness can do so, and say why they skip elsewhere.
 */
import { expect, it, onTestFinished } from 'vitest';
import { hasCode, KioskError } from '../../app/common/errors.js';
import {
  collectWarnings,
  describeContract,
  needsCable,
  plugBack,
  pullCable,
  recordStates,
  type SkipIf,
} from '../testing/device-contract.js';
import type { LcusRelay } from './lcus.js';
import type { LcusSimulator, SimulatedFrame } from './lcus-simulator.js';

/** What a contract run needs from its setup. */
export interface RelayContractHarness {
  /** The channel under test. */
  channel: number;
  /** Channels the board has; all of them must be driven off on open. */
  boardChannels: number;
  /** A driver for `channel`, not yet opened. */
  createRelay(options: { invert: boolean }): LcusRelay;
  /** The board's side of the wire, where the harness can see it (the simulator). */
  board?: LcusSimulator;
  /** Pulls the board's cable, where the harness can. */
  unplug?(): Promise<void>;
  /** Plugs it back in. */
  replug?(): Promise<void>;
  teardown(): Promise<void>;
}

const pulseMs = 300;
const replugBudgetMs = 2_000;
const receiveJitterMs = 50;
const onSimulator = 'run against the simulator';

/** Registers the relay contract suite under `name`, building a fresh harness for each test. */
export function describeRelayContract(
  name: string,
  setup: () => Promise<RelayContractHarness>,
): void {
  describeContract(name, setup, (harness) => {
    /** A driver that is closed when the test ends, whatever happens. */
    function relayFor(invert = false): LcusRelay {
      const relay = harness().createRelay({ invert });
      onTestFinished(() => relay.close());
      return relay;
    }

    /** Opens and, where the board is visible, waits until its drive-off frames have all arrived. */
    async function openSettled(relay: LcusRelay): Promise<number> {
      await relay.open();
      const board = harness().board;
      if (!board) return 0;

      const last = harness().boardChannels;
      await board.waitForFrame((frame) => frame.channel === last);
      return board.frames().length;
    }

    it('drives every channel it knows of off before it reports connected', async () => {
      const relay = relayFor();
      const states = recordStates(relay);

      await relay.open();

      expect(states).toEqual(['connecting', 'connected']);
      const board = harness().board;
      if (board) {
        for (let channel = 1; channel <= harness().boardChannels; channel += 1) {
          await board.waitForFrame((frame) => frame.channel === channel && !frame.on);
          expect(board.coil(channel), `channel ${channel}`).toBe(false);
        }

        expect(board.frames().filter((frame) => frame.on)).toEqual([]);
      }
    });

    it('pulses: on, then off once the configured time has passed', async () => {
      const relay = relayFor();
      const from = await openSettled(relay);
      const started = Date.now();

      await relay.pulse(pulseMs);

      expect(Date.now() - started).toBeGreaterThanOrEqual(pulseMs);
      const board = harness().board;
      if (board) {
        const [on, off] = await pulseFrames(board, harness().channel, from);
        // Arrival times carry the simulator's event-loop delay, hence the slack either way.
        expect(off.at - on.at).toBeGreaterThanOrEqual(pulseMs - receiveJitterMs);
        expect(off.at - on.at).toBeLessThan(pulseMs + 300);
        expect(board.coil(harness().channel)).toBe(false);
      }
    });

    it('swaps on and off for a board wired the other way', async () => {
      const relay = relayFor(true);
      const from = await openSettled(relay);
      const board = harness().board;

      await relay.pulse(pulseMs);

      if (board) {
        const ours = (frame: SimulatedFrame): boolean => frame.channel === harness().channel;
        expect(
          board
            .frames()
            .slice(0, from)
            .filter(ours)
            .map((frame) => frame.on),
        ).toEqual([true]);
        const closing = await board.waitForFrame(ours, 2_000, from);
        const opening = await board.waitForFrame((frame) => ours(frame) && frame.on, 2_000, from);
        expect(closing.on).toBe(false);
        expect(opening.at - closing.at).toBeGreaterThanOrEqual(pulseMs - receiveJitterMs);
        expect(board.coil(harness().channel)).toBe(true);
      }
    });

    it('reports an unplug as disconnected with a coded error and refuses pulses meanwhile', async ({
      skip,
    }) => {
      const { unplug } = needsCable(harness(), skip, onSimulator);
      const relay = relayFor();
      await relay.open();

      const { error } = await pullCable(relay, unplug);

      expect(hasCode(error, 'disconnected')).toBe(true);
      expect(relay.state).toBe('disconnected');
      await expect(relay.pulse(pulseMs)).rejects.toSatisfy((e) => hasCode(e, 'disconnected'));
    });

    it('fails a pulse in flight as disconnected when the cable is pulled', async ({ skip }) => {
      const { unplug } = needsCable(harness(), skip, onSimulator);
      const relay = relayFor();
      const from = await openSettled(relay);
      const pulse = relay.pulse(10_000);
      await harness().board?.waitForFrame((frame) => frame.on, 2_000, from);
      const started = Date.now();

      await unplug();

      await expect(pulse).rejects.toSatisfy((e) => hasCode(e, 'disconnected'));
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('recovers within 2 s of a replug and drives the channel off again', async ({ skip }) => {
      const { unplug, replug } = needsCable(harness(), skip, onSimulator);
      const relay = relayFor();
      await relay.open();
      await pullCable(relay, unplug);
      const from = harness().board?.frames().length ?? 0;
      const replugged = Date.now();

      await plugBack(relay, replug, replugBudgetMs);

      expect(Date.now() - replugged).toBeLessThan(replugBudgetMs);
      const board = harness().board;
      if (board) {
        await board.waitForFrame(
          (frame) => frame.channel === harness().channel && !frame.on,
          2_000,
          from,
        );
        expect(board.coil(harness().channel)).toBe(false);
      }
    });

    it('never issues a pulse by itself after a reconnect', async ({ skip }) => {
      const { unplug, replug } = needsCable(harness(), skip, onSimulator);
      const board = needsBoard(harness(), skip);
      const relay = relayFor();
      await openSettled(relay);
      const interrupted = relay.pulse(10_000);
      await board.waitForFrame((frame) => frame.on);
      await unplug();
      await expect(interrupted).rejects.toThrow(KioskError);
      await expect(relay.pulse(pulseMs)).rejects.toSatisfy((e) => hasCode(e, 'disconnected'));
      const from = board.frames().length;

      await plugBack(relay, replug, replugBudgetMs);
      await relay.pulse(50);
      await pulseFrames(board, harness().channel, from);

      // The only on frame after the replug is the fresh pulse: drive-off, on, off.
      const after = board
        .frames()
        .slice(from)
        .filter((frame) => frame.channel === harness().channel);
      expect(after.map((frame) => frame.on)).toEqual([false, true, false]);
    });

    it('goes through 20 unplug and replug cycles without piling up listeners', async ({ skip }) => {
      const { unplug, replug } = needsCable(harness(), skip, onSimulator);
      const relay = relayFor();
      await relay.open();
      const warnings = collectWarnings();
      const relayBefore = relay.listenerCounts();
      const boardBefore = harness().board?.listenerCounts();

      for (let cycle = 0; cycle < 20; cycle += 1) {
        await pullCable(relay, unplug);
        await plugBack(relay, replug, replugBudgetMs);
      }

      expect(relay.listenerCounts()).toEqual(relayBefore);
      expect(harness().board?.listenerCounts()).toEqual(boardBefore);
      expect(warnings()).toEqual([]);
      await relay.pulse(50);
    }, 60_000);
  });
}

function needsBoard(harness: RelayContractHarness, skip: SkipIf): LcusSimulator {
  skip(!harness.board, `needs to see the board side of the wire: ${onSimulator}`);
  return harness.board!;
}

/** The on frame and the off frame that follows it on `channel`, from frames()[from] on. */
async function pulseFrames(
  board: LcusSimulator,
  channel: number,
  from: number,
): Promise<[SimulatedFrame, SimulatedFrame]> {
  const on = await board.waitForFrame(
    (frame) => frame.channel === channel && frame.on,
    2_000,
    from,
  );
  const onIndex = board.frames().indexOf(on);
  const off = await board.waitForFrame(
    (frame) => frame.channel === channel && !frame.on,
    2_000,
    onIndex + 1,
  );
  return [on, off];
}
