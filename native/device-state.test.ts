import { describe, expect, it, onTestFinished } from 'vitest';
import { moduleLogger } from '../app/core/log.js';
import type { DeviceState } from '../app/core/ports.js';
import { DeviceStateHolder, RetryTimer } from './device-state.js';

const log = moduleLogger('device-state.test');

describe('DeviceStateHolder', () => {
  it('tells subscribers of changes only, with the error, and stops after unsubscribe', () => {
    const holder = new DeviceStateHolder(log, { device: 'test' });
    const seen: Array<[DeviceState, string | undefined]> = [];
    const unsubscribe = holder.subscribe((state, error) => seen.push([state, error?.message]));

    holder.set('connecting');
    holder.set('connecting');
    holder.set('disconnected', new Error('unplugged'));
    unsubscribe();
    holder.set('connected');

    expect(seen).toEqual([
      ['connecting', undefined],
      ['disconnected', 'unplugged'],
    ]);
    expect(holder.state).toBe('connected');
    expect(holder.listenerCount).toBe(0);
  });

  it('still tells the other subscribers when one throws', () => {
    const holder = new DeviceStateHolder(log, { device: 'test' });
    const seen: DeviceState[] = [];
    holder.subscribe(() => {
      throw new Error('listener bug');
    });
    holder.subscribe((state) => seen.push(state));

    holder.set('connected');

    expect(seen).toEqual(['connected']);
  });
});

describe('RetryTimer', () => {
  it('never runs two attempts at once, and none after stop', async () => {
    let running = 0;
    let most = 0;
    let attempts = 0;
    let finishSlow: () => void = () => undefined;
    const slowDone = new Promise<void>((resolve) => (finishSlow = resolve));
    const timer = new RetryTimer(
      1,
      async () => {
        attempts += 1;
        running += 1;
        most = Math.max(most, running);
        if (attempts === 1) await slowDone;
        running -= 1;
      },
      log,
    );
    onTestFinished(() => timer.stop());

    timer.start();
    await waitUntil(() => attempts === 1);
    await tick(20);
    expect(attempts).toBe(1);
    finishSlow();
    await waitUntil(() => attempts >= 3);
    timer.stop();
    const stoppedAt = attempts;
    await tick(20);

    expect(most).toBe(1);
    expect(attempts).toBe(stoppedAt);
  });
});

function tick(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await tick(1);
  }
}
