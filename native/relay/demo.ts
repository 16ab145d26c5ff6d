/**
 * A relay for demo kiosks and tests without a board: the LCUS driver on one end of a
 * pseudo-terminal pair and the simulator on the other, so the demo runs the real driver's bytes.
 * If socat dies the pair starts it again, and driver and simulator reconnect as after a replug.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { moduleLogger } from '../../app/core/log.js';
import { startPtyPair, type PtyPair } from '../testing/pty-pair.js';
import { LcusRelay, type LcusRelayOptions } from './lcus.js';
import { LcusSimulator, type LcusSimulatorOptions } from './lcus-simulator.js';

const log = moduleLogger('relay.demo');

/** Driver options (the port is made here) and, optionally, how the simulated board behaves. */
export interface SimulatedRelayOptions extends Omit<LcusRelayOptions, 'port' | 'channel'> {
  channel?: number;
  simulator?: LcusSimulatorOptions;
  /** Folder for the pair's links; a temporary one (removed by stop()) when left out. */
  dir?: string;
}

/** The parts of a running simulated relay; stop() ends them all. */
export interface SimulatedRelay {
  relay: LcusRelay;
  simulator: LcusSimulator;
  pair: PtyPair;
  stop(): Promise<void>;
}

/**
 * Starts socat, the simulated board and an opened driver. The pair holds the driver's end back
 * until the board listens, so replugging it (pair.unplug/replug) never loses the drive-off, and
 * restarts socat by itself when it dies unasked.
 */
export async function startSimulatedRelay(
  options: SimulatedRelayOptions = {},
): Promise<SimulatedRelay> {
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'kiosk-relay-')));
  const removeDir = (): Promise<void> =>
    ownsDir ? rm(dir, { recursive: true, force: true }) : Promise.resolve();

  const simulator = new LcusSimulator(join(dir, 'b'), options.simulator);
  const listening = simulator.open();
  let pair: PtyPair;
  try {
    pair = await startPtyPair(dir, { deviceFirst: true, restartOnExit: true });
    await listening;
  } catch (error) {
    await simulator.close();
    await listening.catch(() => undefined);
    await removeDir();
    throw error;
  }

  const { dir: _dir, simulator: _simulator, ...driverOptions } = options;
  const relay = new LcusRelay({ ...driverOptions, channel: options.channel ?? 1, port: pair.a });
  const stop = stopper(relay, simulator, pair, removeDir);
  await relay.open().catch(async (error: unknown) => {
    await stop();
    throw error;
  });

  log.info({ a: pair.a, b: pair.b }, 'start: simulated relay running');
  return { relay, simulator, pair, stop };
}

function stopper(
  relay: LcusRelay,
  simulator: LcusSimulator,
  pair: PtyPair,
  removeDir: () => Promise<void>,
): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const stopAll = async (): Promise<void> => {
    // Driver first, so its last off frames still reach the board.
    await relay.close();
    await simulator.close();
    await pair.close();
    await removeDir();
    log.info({ a: pair.a }, 'stop: simulated relay stopped');
  };

  return () => (stopping ??= stopAll());
}
