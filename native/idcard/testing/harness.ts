/** A simulated reader on a pty pair, the way the contract and the replug tests set it up. */
import { startSimulatorPair } from '../../testing/simulator-pair.js';
import type { IdCardContractHarness } from '../idcard.contract.js';
import { SamIdCardReader, type SamReaderOptions } from '../sam-reader.js';
import { SamSimulator, type SamSimulatorOptions } from '../sam-simulator.js';
import { clockInForce } from './cards.js';

/** Timings short enough for tests, long enough for two busy cores. */
export const fast = {
  pollIntervalMs: 20,
  responseTimeoutMs: 300,
  readTimeoutMs: 500,
  reconnectIntervalMs: 50,
  clock: clockInForce,
} satisfies Partial<SamReaderOptions>;

/** A simulated reader on a fresh pty pair, listening before its port appears. */
export async function simulatedHarness(
  device: SamSimulatorOptions = {},
  reader: Partial<SamReaderOptions> = {},
): Promise<IdCardContractHarness & { port: string; device: SamSimulator }> {
  const { simulator, pair, port, teardown } = await startSimulatorPair(
    'idcard-test',
    (path) => new SamSimulator(path, device),
  );

  return {
    port,
    readTimeoutMs: reader.readTimeoutMs ?? fast.readTimeoutMs,
    device: simulator,
    createReader: () => new SamIdCardReader({ port, ...fast, ...reader }),
    unplug: () => pair.unplug(),
    replug: () => pair.replug(),
    teardown,
  };
}
