/** A simulated reader on a pty pair, the way the contract and the replug tests set it up. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPtyPair } from '../../testing/pty-pair.js';
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
  const dir = await mkdtemp(join(tmpdir(), 'kiosk-idcard-test-'));
  const simulator = new SamSimulator(join(dir, 'b'), device);
  const listening = simulator.open();
  const pair = await startPtyPair(dir, { deviceFirst: true });
  await listening;

  return {
    port: pair.a,
    readTimeoutMs: reader.readTimeoutMs ?? fast.readTimeoutMs,
    device: simulator,
    createReader: () => new SamIdCardReader({ port: pair.a, ...fast, ...reader }),
    unplug: () => pair.unplug(),
    replug: () => pair.replug(),
    teardown: async () => {
      await simulator.close();
      await pair.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
