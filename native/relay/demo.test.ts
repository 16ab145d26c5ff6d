import { afterEach, describe, expect, it } from 'vitest';
import { hasCode } from '../../app/common/errors.js';
import { nextState } from '../testing/device-contract.js';
import { startSimulatedRelay, type SimulatedRelay } from './demo.js';

describe('the demo kiosk’s simulated relay', () => {
  let simulated: SimulatedRelay | undefined;

  afterEach(async () => {
    await simulated?.stop();
    simulated = undefined;
  });

  it('comes back by itself when its socat dies, and pulses again', async () => {
    simulated = await startSimulatedRelay({ channel: 1, reconnectIntervalMs: 50 });
    const { relay, simulator, pair } = simulated;
    const lost = nextState(relay, 'disconnected');
    const back = nextState(relay, 'connected', 5_000);
    const pid = pair.pid!;

    // Killed from outside, as a crash or an OOM kill would: not an unplug() the pair asked for.
    process.kill(pid, 'SIGKILL');

    expect(hasCode((await lost).error, 'disconnected')).toBe(true);
    await back;
    expect(pair.pid).not.toBe(pid);
    const from = simulator.frames().length;
    await relay.pulse(50);
    await simulator.waitForFrame((frame) => !frame.on, 2_000, from + 1);
  });

  it('stays unplugged when unplugged on purpose', async () => {
    simulated = await startSimulatedRelay({ channel: 1, reconnectIntervalMs: 50 });
    const { relay, pair } = simulated;
    const lost = nextState(relay, 'disconnected');

    await pair.unplug();
    await lost;

    await expect(nextState(relay, 'connected', 500)).rejects.toThrow(/did not become connected/);
    expect(pair.plugged).toBe(false);
  });
});
