import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { hasCode } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';
import { closeHost, openHost } from './host-port.js';
import { startPtyPair, type PtyPair } from './pty-pair.js';
import { startSimulatorPair } from './simulator-pair.js';
import {
  Recording,
  SimulatorPort,
  simulatorDefaults,
  type SimulatorPortEvents,
} from './simulator-port.js';

const log = moduleLogger('simulator-port.test');

/** A port on `path` that counts its events and is closed when the test ends. */
function portOn(path: string, events: Partial<SimulatorPortEvents> = {}): SimulatorPort {
  const options = { ...simulatorDefaults({ openTimeoutMs: 300 }, 9600), name: 'test device' };
  const port = new SimulatorPort(path, options, { data: () => undefined, ...events }, log);
  onTestFinished(() => port.close());
  return port;
}

async function pairIn(): Promise<PtyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'kiosk-simulator-port-test-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const pair = await startPtyPair(dir);
  onTestFinished(() => pair.close());
  return pair;
}

describe('SimulatorPort', () => {
  it('rejects open with timeout when the path never appears', async () => {
    const port = portOn(join(tmpdir(), `kiosk-no-such-port-${process.pid}`));

    await expect(port.open()).rejects.toSatisfy((error) => hasCode(error, 'timeout'));
    expect(port.isOpen).toBe(false);
    expect(port.listenerCount).toBe(0);
  });

  it('carries bytes both ways and, after a replug, opens again by itself', async () => {
    const pair = await pairIn();
    const chunks: Buffer[] = [];
    let opened = 0;
    let lost = 0;
    const port = portOn(pair.b, {
      data: (chunk) => chunks.push(chunk),
      opened: () => (opened += 1),
      lost: () => (lost += 1),
    });
    await port.open();
    const host = await openHost(pair.a);
    onTestFinished(() => closeHost(host));

    const arrived = new Promise((resolve) => host.once('data', resolve));
    port.write(Uint8Array.of(1, 2, 3));
    expect(Array.from((await arrived) as Buffer)).toEqual([1, 2, 3]);
    host.write(Buffer.from([4, 5]));
    await expect.poll(() => Buffer.concat(chunks).toString('hex')).toBe('0405');
    expect(port.listenerCount).toBe(3);

    await closeHost(host);
    await pair.unplug();
    await expect.poll(() => lost).toBe(1);
    const back = port.whenOpen(2_000);
    await pair.replug();
    await back;

    expect(opened).toBe(2);
    expect(port.listenerCount).toBe(3);
  });

  it('fails a send while unplugged instead of waiting for a host', async () => {
    const pair = await pairIn();
    let lost = false;
    const port = portOn(pair.b, { lost: () => (lost = true) });
    await port.open();

    await pair.unplug();
    await expect.poll(() => lost).toBe(true);

    await expect(port.send(Uint8Array.of(1))).rejects.toSatisfy((error) =>
      hasCode(error, 'disconnected'),
    );
    expect(() => port.write(Uint8Array.of(1))).not.toThrow();
  });

  it('stops looking for its port once closed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiosk-simulator-port-test-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const port = portOn(join(dir, 'b'));
    const opening = port.open();

    await port.close();

    await expect(opening).resolves.toBeUndefined();
    expect(port.isOpen).toBe(false);
  });
});

describe('Recording', () => {
  it('keeps the newest entries up to its limit and tells its listeners of each', () => {
    const recording = new Recording<number>('number', 2);
    const heard: number[] = [];
    const unsubscribe = recording.subscribe((entry) => heard.push(entry));

    for (const entry of [1, 2, 3]) recording.add(entry);
    unsubscribe();
    recording.add(4);

    expect(recording.all()).toEqual([3, 4]);
    expect(heard).toEqual([1, 2, 3]);
    expect(recording.listenerCount).toBe(0);
  });

  it('waits for the nth match from an index on, counting what is already there', async () => {
    const recording = new Recording<number>('number', 100);
    recording.add(1);
    recording.add(2);

    const third = recording.waitFor((entry) => entry % 2 === 0, { count: 2, from: 1 });
    recording.add(3);
    recording.add(4);

    expect(await third).toBe(4);
    expect(await recording.waitFor((entry) => entry === 1)).toBe(1);
    expect(recording.listenerCount).toBe(0);
  });

  it('rejects with timeout, naming what it waited for, and leaves no listener behind', async () => {
    const recording = new Recording<number>('widget', 100);

    await expect(recording.waitFor(() => true, { timeoutMs: 20 })).rejects.toThrow(
      'no matching widget within 20 ms',
    );
    expect(recording.listenerCount).toBe(0);
  });
});

describe('startSimulatorPair', () => {
  it('has the simulator listen on the device end, and tears both down', async () => {
    const { simulator, pair, port, teardown } = await startSimulatorPair(
      'simulator-pair-test',
      (path) => portOn(path),
    );
    const dir = join(pair.a, '..');

    expect(port).toBe(pair.a);
    expect(simulator.path).toBe(pair.b);
    expect(simulator.isOpen).toBe(true);
    await Promise.all([teardown(), teardown()]);

    expect(simulator.isOpen).toBe(false);
    expect(pair.plugged).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});
