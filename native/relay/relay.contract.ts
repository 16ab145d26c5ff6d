/**
 * The behaviour every relay setup must show, whatever the board: run against the simulated LCUS
 * and Modbus boards and, when KIOSK_TEST_RELAY_PORT or KIOSK_TEST_MODBUS_PORT names one, a real
 * board. Checks that need to see the board's side or to pull its cable run only where the harness
 * can do so, and say why they skip elsewhere.
 */
import { existsSync, readdirSync } from 'node:fs';
import { expect, it } from 'vitest';
import { hasCode, KioskError } from '../../app/common/errors.js';
import {
  closedAtEnd,
  collectWarnings,
  cycleCable,
  describeContract,
  needsCable,
  plugBack,
  pullCable,
  recordStates,
  replugBudgetMs,
  type SkipIf,
} from '../testing/device-contract.js';
import type { RelayDriver } from '../../app/core/ports.js';
import type { LcusSimulator } from './lcus-simulator.js';
import type { ModbusSimulator } from './modbus-simulator.js';
import type { RelayListenerCounts } from './serial-relay.js';

/** One change a board made to a coil, on command or (flash mode) by its own timer. */
export interface BoardSwitch {
  at: number;
  channel: number;
  on: boolean;
}

/** What the suite sees of a simulated board, whichever its kind. */
export interface RelayBoardView {
  /** Every coil change so far, oldest first. */
  switches(): BoardSwitch[];
  /** The first change from index `from` on that matches, already seen or still to come. */
  waitForSwitch(
    predicate: (change: BoardSwitch) => boolean,
    timeoutMs?: number,
    from?: number,
  ): Promise<BoardSwitch>;
  /** Whether a channel's coil is energised. */
  coil(channel: number): boolean;
  listenerCounts(): Record<string, number>;
}

/** A relay driver as the suite drives it. */
export interface ContractRelay extends RelayDriver {
  listenerCounts(): RelayListenerCounts;
}

/** What a contract run needs from its setup. */
export interface RelayContractHarness {
  /** The channel under test. */
  channel: number;
  /** Channels the board has; all of them must be driven off on open. */
  boardChannels: number;
  /** A driver for `channel`, not yet opened. */
  createRelay(options: { invert: boolean }): ContractRelay;
  /** False where the relay cannot drive an inverted board (flash pulses energise the coil). */
  invertible?: boolean;
  /** The board's side of the wire, where the harness can see it (the simulator). */
  board?: RelayBoardView;
  /** Pulls the board's cable, where the harness can. */
  unplug?(): Promise<void>;
  /** Plugs it back in. */
  replug?(): Promise<void>;
  teardown(): Promise<void>;
}

const pulseMs = 300;
const receiveJitterMs = 50;
const onSimulator = 'run against the simulator';
const hotPlugCycles = 100;

/** Every frame of an LCUS board is a coil change: its view is its frames. */
export function lcusBoardView(board: LcusSimulator): RelayBoardView {
  return {
    switches: () => board.frames(),
    waitForSwitch: (predicate, timeoutMs, from) => board.waitForFrame(predicate, timeoutMs, from),
    coil: (channel) => board.coil(channel),
    listenerCounts: () => board.listenerCounts(),
  };
}

/** A Modbus board's coil changes include flashes running out, which no frame announces. */
export function modbusBoardView(board: ModbusSimulator): RelayBoardView {
  return {
    switches: () => board.switches(),
    waitForSwitch: (predicate, timeoutMs, from) => board.waitForSwitch(predicate, timeoutMs, from),
    coil: (channel) => board.coil(channel),
    listenerCounts: () => board.listenerCounts(),
  };
}

/** Registers the relay contract suite under `name`, building a fresh harness for each test. */
export function describeRelayContract(
  name: string,
  setup: () => Promise<RelayContractHarness>,
): void {
  describeContract(name, setup, (harness) => {
    /** A driver that is closed when the test ends, whatever happens. */
    function relayFor(invert = false): ContractRelay {
      return closedAtEnd(harness().createRelay({ invert }));
    }

    /** Opens and, where the board is visible, waits until its drive-off frames have all arrived. */
    async function openSettled(relay: ContractRelay): Promise<number> {
      await relay.open();
      const board = harness().board;
      if (!board) return 0;

      const last = harness().boardChannels;
      await board.waitForSwitch((frame) => frame.channel === last);
      return board.switches().length;
    }

    it('drives every channel it knows of off before it reports connected', async () => {
      const relay = relayFor();
      const states = recordStates(relay);

      await relay.open();

      expect(states).toEqual(['connecting', 'connected']);
      const board = harness().board;
      if (board) {
        for (let channel = 1; channel <= harness().boardChannels; channel += 1) {
          await board.waitForSwitch((frame) => frame.channel === channel && !frame.on);
          expect(board.coil(channel), `channel ${channel}`).toBe(false);
        }

        expect(board.switches().filter((frame) => frame.on)).toEqual([]);
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

    it('swaps on and off for a board wired the other way', async ({ skip }) => {
      skip(harness().invertible === false, 'flash pulses cannot drive an inverted board');
      const relay = relayFor(true);
      const from = await openSettled(relay);
      const board = harness().board;

      await relay.pulse(pulseMs);

      if (board) {
        const ours = (frame: BoardSwitch): boolean => frame.channel === harness().channel;
        expect(
          board
            .switches()
            .slice(0, from)
            .filter(ours)
            .map((frame) => frame.on),
        ).toEqual([true]);
        const closing = await board.waitForSwitch(ours, 2_000, from);
        const opening = await board.waitForSwitch((frame) => ours(frame) && frame.on, 2_000, from);
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
      await harness().board?.waitForSwitch((frame) => frame.on, 2_000, from);
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
      const from = harness().board?.switches().length ?? 0;
      const replugged = Date.now();

      await plugBack(relay, replug, replugBudgetMs);

      expect(Date.now() - replugged).toBeLessThan(replugBudgetMs);
      const board = harness().board;
      if (board) {
        await board.waitForSwitch(
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
      await board.waitForSwitch((frame) => frame.on);
      await unplug();
      await expect(interrupted).rejects.toThrow(KioskError);
      await expect(relay.pulse(pulseMs)).rejects.toSatisfy((e) => hasCode(e, 'disconnected'));
      const from = board.switches().length;

      await plugBack(relay, replug, replugBudgetMs);
      await relay.pulse(50);
      await pulseFrames(board, harness().channel, from);

      // The only on frame after the replug is the fresh pulse: drive-off, on, off.
      const after = board
        .switches()
        .slice(from)
        .filter((frame) => frame.channel === harness().channel);
      expect(after.map((frame) => frame.on)).toEqual([false, true, false]);
    });

    it('goes through 20 unplug and replug cycles without piling up listeners', async ({ skip }) => {
      const cable = needsCable(harness(), skip, onSimulator);
      const relay = relayFor();
      await relay.open();
      const warnings = collectWarnings();
      const relayBefore = relay.listenerCounts();
      const boardBefore = harness().board?.listenerCounts();

      await cycleCable(relay, cable, 20);

      expect(relay.listenerCounts()).toEqual(relayBefore);
      expect(harness().board?.listenerCounts()).toEqual(boardBefore);
      expect(warnings()).toEqual([]);
      await relay.pulse(50);
    }, 60_000);

    it('drops a pulse queued behind one the unplug cut off, and runs neither after the replug', async ({
      skip,
    }) => {
      const { unplug, replug } = needsCable(harness(), skip, onSimulator);
      const board = needsBoard(harness(), skip);
      const relay = relayFor();
      const from = await openSettled(relay);
      const first = relay.pulse(10_000);
      const queued = relay.pulse(pulseMs);
      await board.waitForSwitch((change) => change.on, 2_000, from);

      await pullCable(relay, unplug);
      await plugBack(relay, replug, replugBudgetMs);

      await expect(first).rejects.toSatisfy((e) => hasCode(e, 'disconnected'));
      await expect(queued).rejects.toSatisfy((e) => hasCode(e, 'disconnected'));
      const ons = board
        .switches()
        .slice(from)
        .filter((change) => change.on);
      expect(ons).toHaveLength(1);
    });

    it(`survives ${hotPlugCycles} unplugs in operation: each recovered in 2 s, no pulse unasked, no leaks`, async ({
      skip,
    }) => {
      const { unplug, replug } = needsCable(harness(), skip, onSimulator);
      const board = needsBoard(harness(), skip);
      const relay = relayFor();
      await openSettled(relay);
      // One full cycle first, so that whatever is created once (pollers, pools) exists before counting.
      await hotPlugCycle(relay, board, harness(), { unplug, replug }, 0);
      const warnings = collectWarnings();
      const relayBefore = relay.listenerCounts();
      const boardBefore = board.listenerCounts();
      const resourcesBefore = activeResources();
      const from = board.switches().length;

      for (let cycle = 1; cycle <= hotPlugCycles; cycle += 1) {
        await hotPlugCycle(relay, board, harness(), { unplug, replug }, cycle);
      }

      const ons = board
        .switches()
        .slice(from)
        .filter((change) => change.on);
      // Exactly one on per pulse asked for (one per cycle), all on the gate's own channel.
      expect(ons).toHaveLength(hotPlugCycles);
      expect(ons.every((change) => change.channel === harness().channel)).toBe(true);
      expect(relay.listenerCounts()).toEqual(relayBefore);
      expect(board.listenerCounts()).toEqual(boardBefore);
      // Polled: a retry or status check may be just under way when the last cycle ends.
      await expect.poll(activeResources, { timeout: 2_000 }).toEqual(resourcesBefore);
      expect(warnings()).toEqual([]);
    }, 90_000);
  });
}

/**
 * One cycle of a kiosk in use: a pulse, then the cable pulled. Every other cycle the cable goes
 * in the middle of the pulse, the case where a reconnect might be tempted to finish it.
 */
async function hotPlugCycle(
  relay: ContractRelay,
  board: RelayBoardView,
  harness: RelayContractHarness,
  cable: { unplug: () => Promise<void>; replug: () => Promise<void> },
  cycle: number,
): Promise<void> {
  const from = board.switches().length;
  if (cycle % 2 === 0) {
    const pulse = relay.pulse(10_000);
    await board.waitForSwitch((change) => change.on, 2_000, from);
    await pullCable(relay, cable.unplug);
    await expect(pulse).rejects.toSatisfy((e) => hasCode(e, 'disconnected'));
  } else {
    await relay.pulse(20);
    // The pulse resolves once its off frame is written; the board has it only once it has read
    // it, and pulling the cable before then would lose bytes a real cable had delivered.
    await board.waitForSwitch(
      (change) => change.channel === harness.channel && !change.on,
      2_000,
      from,
    );
    await pullCable(relay, cable.unplug);
  }

  const replugged = Date.now();
  const beforeReplug = board.switches().length;
  await plugBack(relay, cable.replug, replugBudgetMs);
  expect(Date.now() - replugged).toBeLessThan(replugBudgetMs);
  // Connected means drive-off was sent; wait until the board has it, so cycles do not overlap.
  await board.waitForSwitch(
    (change) => change.channel === harness.boardChannels,
    2_000,
    beforeReplug,
  );
}

/**
 * Kinds of handle the process holds, leaving out file requests (status polls come and go), and
 * its open file descriptors where /proc shows them: serial ports are not in Node's list.
 */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind.startsWith('FSReq')) continue;
    counts[kind] = (counts[kind] ?? 0) + 1;
  }

  if (existsSync('/proc/self/fd')) counts.fileDescriptors = readdirSync('/proc/self/fd').length;
  return counts;
}

function needsBoard(harness: RelayContractHarness, skip: SkipIf): RelayBoardView {
  skip(!harness.board, `needs to see the board side of the wire: ${onSimulator}`);
  return harness.board!;
}

/** The on frame and the off frame that follows it on `channel`, from switches()[from] on. */
async function pulseFrames(
  board: RelayBoardView,
  channel: number,
  from: number,
): Promise<[BoardSwitch, BoardSwitch]> {
  const on = await board.waitForSwitch(
    (frame) => frame.channel === channel && frame.on,
    2_000,
    from,
  );
  const onIndex = board.switches().indexOf(on);
  const off = await board.waitForSwitch(
    (frame) => frame.channel === channel && !frame.on,
    2_000,
    onIndex + 1,
  );
  return [on, off];
}
