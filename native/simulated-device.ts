/**
 * A serial device for demo kiosks and tests without the hardware: the real driver on one end of a
 * pseudo-terminal pair and the device's simulator on the other, so the demo runs the driver's real
 * bytes. If socat dies the pair starts it again, and both ends reconnect as after a replug.
 */
import { moduleLogger } from '../app/core/log.js';
import type { PtyPair } from './testing/pty-pair.js';
import { once, startSimulatorPair, type Openable } from './testing/simulator-pair.js';

const log = moduleLogger('simulated-device');

/** How to build the two ends, given their port paths. */
export interface SimulatedDeviceParts<Driver extends Openable, Simulator extends Openable> {
  /** Names the device in log lines, e.g. `scanner`. */
  name: string;
  simulator(path: string): Simulator;
  driver(port: string): Driver;
  /** Folder for the pair's links; a temporary one (removed by stop()) when left out. */
  dir?: string;
  /**
   * Stop everything and reject when the driver fails to open, instead of returning it still
   * looking for its device.
   */
  requireOpen?: boolean;
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
 * device is not an error for the driver, so a driver that fails to open is still returned running
 * (unless `requireOpen`): it keeps looking, as it would for real hardware.
 */
export async function startSimulatedDevice<Driver extends Openable, Simulator extends Openable>(
  parts: SimulatedDeviceParts<Driver, Simulator>,
): Promise<SimulatedDevice<Driver, Simulator>> {
  const { simulator, pair, teardown } = await startSimulatorPair(
    parts.name,
    (path) => parts.simulator(path),
    { dir: parts.dir, restartOnExit: true },
  );
  const driver = parts.driver(pair.a);
  const stop = once(async () => {
    // Driver first, so whatever it sends on closing (a relay's off frames) still arrives.
    await driver.close();
    await teardown();
    log.info({ device: parts.name }, 'stop: simulated device stopped');
  });
  await driver.open().catch(async (error: unknown) => {
    if (!parts.requireOpen) {
      log.warn({ device: parts.name, err: error }, 'start: simulated device not open yet');
      return;
    }

    await stop();
    throw error;
  });

  log.info({ device: parts.name, a: pair.a, b: pair.b }, 'start: simulated device running');
  return { driver, simulator, pair, stop };
}
