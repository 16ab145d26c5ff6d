/**
 * A serial scanner rig for tests: a socat pair whose device end a simulated scanner holds, and a
 * path for the driver's end. Killing socat is the unplug; the simulator reopens on the replug.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPtyPair, type PtyPair } from '../../testing/pty-pair.js';
import {
  SerialScannerSimulator,
  type SerialScannerSimulatorOptions,
} from '../serial-scanner-simulator.js';

/** The pair, the simulated scanner on its device end, and the teardown of both. */
export interface SerialRig {
  pair: PtyPair;
  simulator: SerialScannerSimulator;
  /** The path the driver opens. */
  port: string;
  teardown(): Promise<void>;
}

/** Starts a pair with the simulator already listening, as a real scanner would be. */
export async function startSerialRig(
  options: SerialScannerSimulatorOptions = {},
): Promise<SerialRig> {
  const dir = await mkdtemp(join(tmpdir(), 'kiosk-scanner-test-'));
  const simulator = new SerialScannerSimulator(join(dir, 'b'), options);
  const listening = simulator.open();
  const pair = await startPtyPair(dir, { deviceFirst: true });
  await listening;

  return {
    pair,
    simulator,
    port: pair.a,
    teardown: async () => {
      await simulator.close();
      await pair.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
