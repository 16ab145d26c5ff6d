import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { hasCode } from '../../app/common/errors.js';
import type { DeviceState } from '../../app/core/ports.js';
import { startPtyPair, type PtyPair } from '../testing/pty-pair.js';
import { startSimulatorPair } from '../testing/simulator-pair.js';
import { startSimulatedRelay, type SimulatedRelay } from './demo.js';
import { LcusRelay } from './lcus.js';
import { LcusSimulator } from './lcus-simulator.js';
import {
  describeRelayContract,
  lcusBoardView,
  type RelayContractHarness,
} from './relay.contract.js';

const channel = 2;
const boardChannels = 4;

/** A four-channel simulated board that powers up with every relay on: the case drive-off is for. */
async function simulatedHarness(): Promise<RelayContractHarness> {
  const options = { channels: boardChannels, powerUpOn: true };
  const rig = await startSimulatorPair('lcus-test', (path) => new LcusSimulator(path, options));
  const { simulator: board, pair } = rig;

  return {
    channel,
    boardChannels,
    board: lcusBoardView(board),
    createRelay: ({ invert }) =>
      new LcusRelay({ port: pair.a, channel, boardChannels, invert, reconnectIntervalMs: 50 }),
    unplug: () => pair.unplug(),
    replug: () => pair.replug(),
    teardown: rig.teardown,
  };
}

describeRelayContract('LcusRelay on the simulated board', simulatedHarness);

const realPort = process.env.KIOSK_TEST_RELAY_PORT;
const realChannel = Number(process.env.KIOSK_TEST_RELAY_CHANNEL ?? 1);

describe.skipIf(!realPort)(
  'real LCUS board (set KIOSK_TEST_RELAY_PORT=/dev/ttyUSB0 to run)',
  () => {
    describeRelayContract(`LcusRelay on ${realPort ?? 'no port'}`, () =>
      Promise.resolve({
        channel: realChannel,
        boardChannels: realChannel,
        createRelay: ({ invert }) =>
          new LcusRelay({
            port: realPort!,
            channel: realChannel,
            invert,
            reconnectIntervalMs: 200,
          }),
        teardown: () => Promise.resolve(),
      }),
    );
  },
);

describe('LcusRelay beyond the contract', () => {
  let simulated: SimulatedRelay | undefined;

  afterEach(async () => {
    await simulated?.stop();
    simulated = undefined;
  });

  it('rejects an absent port as disconnected and connects by itself once it appears', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiosk-lcus-test-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const relay = new LcusRelay({ port: join(dir, 'a'), channel: 1, reconnectIntervalMs: 50 });
    onTestFinished(() => relay.close());

    await expect(relay.open()).rejects.toSatisfy((error) => hasCode(error, 'disconnected'));
    expect(relay.state).toBe('disconnected');

    const connected = stateReached(relay, 'connected');
    const board = new LcusSimulator(join(dir, 'b'));
    onTestFinished(() => board.close());
    const listening = board.open();
    const pair = await startPtyPair(dir, { deviceFirst: true });
    onTestFinished(() => pair.close());
    await listening;

    await connected;
    await board.waitForFrame((frame) => frame.channel === 1 && !frame.on);
  });

  it('runs overlapping pulses one after the other, never interleaving their frames', async () => {
    simulated = await startSimulatedRelay({ channel: 1, reconnectIntervalMs: 50 });
    const { relay, simulator } = simulated;
    await simulator.waitForFrame(() => true);
    simulator.clear();

    await Promise.all([relay.pulse(60), relay.pulse(60)]);
    await simulator.waitForFrame((frame) => !frame.on, 2_000, 3);

    expect(simulator.frames().map((frame) => frame.on)).toEqual([true, false, true, false]);
  });

  it('sends off before closing when closed in the middle of a pulse', async () => {
    simulated = await startSimulatedRelay({ channel: 1, reconnectIntervalMs: 50 });
    const { relay, simulator } = simulated;
    const pulse = relay.pulse(10_000);
    const on = await simulator.waitForFrame((frame) => frame.on);
    const from = simulator.frames().indexOf(on) + 1;

    await relay.close();

    await expect(pulse).rejects.toSatisfy((error) => hasCode(error, 'disconnected'));
    await simulator.waitForFrame((frame) => !frame.on, 2_000, from);
    expect(simulator.coil(1)).toBe(false);
  });

  it('refuses a pulse length that is not a positive number', async () => {
    simulated = await startSimulatedRelay({ channel: 1 });

    for (const ms of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(simulated.relay.pulse(ms)).rejects.toSatisfy((error) =>
        hasCode(error, 'bad_payload'),
      );
    }
  });

  it('refuses channels the board cannot have', () => {
    expect(() => new LcusRelay({ port: '/dev/null', channel: 9 })).toThrow(
      expect.objectContaining({ code: 'config_invalid' }),
    );
    expect(() => new LcusRelay({ port: '/dev/null', channel: 3, boardChannels: 2 })).toThrow(
      expect.objectContaining({ code: 'config_invalid' }),
    );
  });

  it('reports a port another process holds as an error with port_busy, then takes it when freed', async () => {
    simulated = await startSimulatedRelay({ channel: 1, reconnectIntervalMs: 50 });
    const second = new LcusRelay({ port: simulated.pair.a, channel: 1, reconnectIntervalMs: 50 });
    onTestFinished(() => second.close());
    const states: DeviceState[] = [];
    second.onStateChange((state) => states.push(state));

    await expect(second.open()).rejects.toSatisfy((error) => hasCode(error, 'port_busy'));
    expect(second.state).toBe('error');

    const connected = stateReached(second, 'connected');
    await simulated.relay.close();
    await connected;
    expect(states).toEqual(['connecting', 'error', 'connecting', 'connected']);
  });

  it('notices a port whose device node vanished even without a close event', async () => {
    const pair: PtyPair = await startPtyPair();
    onTestFinished(() => pair.close());
    const link = join(tmpdir(), `kiosk-lcus-link-${process.pid}`);
    await rm(link, { force: true });
    await symlink(pair.a, link);
    onTestFinished(() => rm(link, { force: true }));
    const relay = new LcusRelay({ port: link, channel: 1, reconnectIntervalMs: 50 });
    onTestFinished(() => relay.close());
    await relay.open();
    const lost = stateReached(relay, 'disconnected');

    // The pair stays up, so serialport sees nothing; only the path is gone.
    await rm(link);

    const { error } = await lost;
    expect(hasCode(error, 'disconnected')).toBe(true);
  });
});

function stateReached(relay: LcusRelay, wanted: DeviceState): Promise<{ error?: Error }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay never became ${wanted}`)), 5_000);
    const unsubscribe = relay.onStateChange((state, error) => {
      if (state !== wanted) return;

      clearTimeout(timer);
      unsubscribe();
      resolve({ error });
    });
  });
}
