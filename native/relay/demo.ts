/**
 * A relay for demo kiosks and tests without a board: the LCUS driver on one end of a
 * pseudo-terminal pair and the simulator on the other, so the demo runs the real driver's bytes.
 * If socat dies the pair starts it again, and driver and simulator reconnect as after a replug.
 */
import { startSimulatedDevice } from '../simulated-device.js';
import type { PtyPair } from '../testing/pty-pair.js';
import { LcusRelay, type LcusRelayOptions } from './lcus.js';
import { LcusSimulator, type LcusSimulatorOptions } from './lcus-simulator.js';

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
 * restarts socat by itself when it dies unasked. Unlike other simulated devices, a relay that
 * does not open is an error: everything is stopped again and the error passed on.
 */
export async function startSimulatedRelay(
  options: SimulatedRelayOptions = {},
): Promise<SimulatedRelay> {
  const { dir, simulator: board, ...driverOptions } = options;
  const device = await startSimulatedDevice({
    name: 'relay',
    dir,
    requireOpen: true,
    simulator: (path) => new LcusSimulator(path, board),
    driver: (port) => new LcusRelay({ ...driverOptions, channel: options.channel ?? 1, port }),
  });
  const { driver: relay, simulator, pair } = device;
  return { relay, simulator, pair, stop: () => device.stop() };
}
