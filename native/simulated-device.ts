/**
 * A serial device for demo kiosks and tests without the hardware: the real driver on one end of a
 * pseudo-terminal pair and the device's simulator on the other, so the demo runs the driver's real
 * bytes. If socat dies the pair starts it again, and both ends reconnect as after a replug.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { moduleLogger } from '../app/core/log.js';
import { startPtyPair, type PtyPair } from './testing/pty-pair.js';

const log = moduleLogger('simulated-device');

/** What the pair needs of each end. */
interface Openable {
  open(): Promise<void>;
  close(): Promise<void>;
}

/** How to build the two ends, given their port paths. */
export interface SimulatedDeviceParts<Driver extends Openable, Simulator extends Openable> {
  /** Names the device in log lines, e.g. `scanner`. */
  name: string;
  simulator(path: string): Simulator;
  driver(port: string): Driver;
  /** Folder for the pair's links; a temporary one (removed by stop()) when left out. */
  dir?: string;
}

/** The parts of a running simulated device; stop() ends them all. */
export interface SimulatedDevice<Driver, Simulator> {
  driver: Driver;
  simulator: Simulator;
  pair: PtyPair;
  stop(): Promise<void>;
}

/**
 * Starts socat, the simulator and then the driver. The pair holds the driver's end back until the
 * simulator listens, so nothing the driver sends first (a relay's drive-off) is lost. An absent
 * device is not an error for the driver, so a driver that fails to open is still returned running:
 * it keeps looking, as it would for real hardware.
 */
export async function startSimulatedDevice<Driver extends Openable, Simulator extends Openable>(
  parts: SimulatedDeviceParts<Driver, Simulator>,
): Promise<SimulatedDevice<Driver, Simulator>> {
  const ownsDir = parts.dir === undefined;
  const dir = parts.dir ?? (await mkdtemp(join(tmpdir(), `kiosk-${parts.name}-`)));
  const removeDir = (): Promise<void> =>
    ownsDir ? rm(dir, { recursive: true, force: true }) : Promise.resolve();

  const simulator = parts.simulator(join(dir, 'b'));
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

  const driver = parts.driver(pair.a);
  const stop = stopper(parts.name, driver, simulator, pair, removeDir);
  await driver.open().catch((error: unknown) => {
    log.warn({ device: parts.name, err: error }, 'start: simulated device not open yet');
  });

  log.info({ device: parts.name, a: pair.a, b: pair.b }, 'start: simulated device running');
  return { driver, simulator, pair, stop };
}

function stopper(
  name: string,
  driver: Openable,
  simulator: Openable,
  pair: PtyPair,
  removeDir: () => Promise<void>,
): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const stopAll = async (): Promise<void> => {
    // Driver first, so whatever it sends on closing (a relay's off frames) still arrives.
    await driver.close();
    await simulator.close();
    await pair.close();
    await removeDir();
    log.info({ device: name }, 'stop: simulated device stopped');
  };

  // Stopped once however often it is called: the kiosk's cleanup and a test may both call it.
  return () => (stopping ??= stopAll());
}
