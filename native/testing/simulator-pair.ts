/**
 * A simulator on the device end of a fresh pseudo-terminal pair, listening before the driver's end
 * appears, as a real device is powered before anyone opens its port. Tests, benchmarks and demo
 * kiosks all set their simulated devices up this way.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPtyPair, type PtyPair } from './pty-pair.js';

/** What the pair needs of a simulator (and a simulated device of its driver). */
export interface Openable {
  open(): Promise<void>;
  close(): Promise<void>;
}

/** How the pair is made. */
export interface SimulatorPairOptions {
  /** Folder for the pair's links; a temporary one (removed by teardown()) when left out. */
  dir?: string;
  /** Start socat again when it dies unasked, as a demo's stand-in device must come back. */
  restartOnExit?: boolean;
}

/** The simulator and its pair; teardown() ends both. */
export interface SimulatorPair<Simulator> {
  simulator: Simulator;
  pair: PtyPair;
  /** The driver's end. */
  port: string;
  /** Closes the simulator and the pair and removes a folder made here; once, however often called. */
  teardown: () => Promise<void>;
}

/**
 * Starts socat with the simulator `create` builds for the device end already listening. `name`
 * names the temporary folder (`kiosk-<name>-…`). Whatever was started is ended again on failure.
 */
export async function startSimulatorPair<Simulator extends Openable>(
  name: string,
  create: (path: string) => Simulator,
  options: SimulatorPairOptions = {},
): Promise<SimulatorPair<Simulator>> {
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), `kiosk-${name}-`)));
  const removeDir = (): Promise<void> =>
    ownsDir ? rm(dir, { recursive: true, force: true }) : Promise.resolve();

  const simulator = create(join(dir, 'b'));
  const listening = simulator.open();
  let pair: PtyPair | undefined;
  try {
    pair = await startPtyPair(dir, { deviceFirst: true, restartOnExit: options.restartOnExit });
    await listening;
  } catch (error) {
    await simulator.close();
    await listening.catch(() => undefined);
    await pair?.close();
    await removeDir();
    throw error;
  }

  const teardown = once(async () => {
    await simulator.close();
    await pair.close();
    await removeDir();
  });
  return { simulator, pair, port: pair.a, teardown };
}

/**
 * `action`, run at the first call only: every call gets that run's promise, so a cleanup that
 * both a test and the code under test call happens once.
 */
export function once(action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= action());
}
