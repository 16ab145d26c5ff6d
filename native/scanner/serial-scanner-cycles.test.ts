import { describe, expect, it, onTestFinished } from 'vitest';
import { collectWarnings, plugBack, pullCable } from '../testing/device-contract.js';
import { collectScans, nextScan } from './scanner.contract.js';
import { SerialScanner } from './serial-scanner.js';
import { resourceCounts } from './testing/resources.js';
import { startSerialRig } from './testing/serial-rig.js';

const cycles = 100;
const budgetMs = 2_000;

describe('SerialScanner under repeated unplugging', () => {
  it(`survives ${cycles} socat kills and restarts while scanning, without growth`, async () => {
    const rig = await startSerialRig();
    onTestFinished(() => rig.teardown());
    const scanner = new SerialScanner({ port: rig.port, reconnectIntervalMs: 50 });
    onTestFinished(() => scanner.close());
    await scanner.open();
    const warnings = collectWarnings();
    const scans = collectScans(scanner);
    const before = { listeners: scanner.listenerCounts(), resources: resourceCounts() };
    const simulatorListeners = rig.simulator.listenerCounts();
    let slowest = 0;

    for (let cycle = 0; cycle < cycles; cycle += 1) {
      const scan = nextScan(scanner);
      await rig.simulator.scan(`cycle-${cycle}`);
      expect((await scan).text).toBe(`cycle-${cycle}`);

      // A code on the wire as the cable goes: it may arrive or not, but must not break anything.
      const inFlight = rig.simulator
        .scan(`torn-${cycle}`, { chunks: 3, chunkDelayMs: 1 })
        .catch(() => undefined);
      const started = performance.now();
      await pullCable(scanner, () => rig.pair.unplug());
      await plugBack(scanner, () => rig.pair.replug(), budgetMs);
      await inFlight;
      slowest = Math.max(slowest, performance.now() - started);
    }

    const last = nextScan(scanner);
    await rig.simulator.scan('after-all-cycles');
    expect((await last).text).toBe('after-all-cycles');

    expect(slowest).toBeLessThan(budgetMs);
    const cycleScans = scans().filter((scan) => scan.text.startsWith('cycle-'));
    expect(cycleScans).toHaveLength(cycles);
    expect(scanner.listenerCounts()).toEqual(before.listeners);
    expect(rig.simulator.listenerCounts()).toEqual(simulatorListeners);
    const after = resourceCounts();
    expect(after.handles).toEqual(before.resources.handles);
    // Timers and file checks in flight at this instant come and go; only a pile-up is a leak.
    expect(after.timers).toBeLessThanOrEqual(before.resources.timers + 2);
    expect(after.requests).toBeLessThanOrEqual(before.resources.requests + 2);
    expect(warnings()).toEqual([]);
  }, 60_000);
});
