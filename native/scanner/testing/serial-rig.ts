/**
 * A serial scanner rig for tests: a socat pair whose device end a simulated scanner holds, and a
 * path for the driver's end. Killing socat is the unplug; the simulator reopens on the replug.
 */
import { startSimulatorPair, type SimulatorPair } from '../../testing/simulator-pair.js';
import {
  SerialScannerSimulator,
  type SerialScannerSimulatorOptions,
} from '../serial-scanner-simulator.js';

/** The pair, the simulated scanner on its device end, the driver's path and the teardown. */
export type SerialRig = SimulatorPair<SerialScannerSimulator>;

/** Starts a pair with the simulator already listening, as a real scanner would be. */
export function startSerialRig(options: SerialScannerSimulatorOptions = {}): Promise<SerialRig> {
  return startSimulatorPair('scanner-test', (path) => new SerialScannerSimulator(path, options));
}
