import type { SerialPort } from 'serialport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasCode } from '../../app/common/errors.js';
import { closeHost, openHost } from '../testing/host-port.js';
import type { PtyPair } from '../testing/pty-pair.js';
import { startSimulatorPair } from '../testing/simulator-pair.js';
import { encodeLcusFrame } from './lcus-protocol.js';
import { LcusSimulator } from './lcus-simulator.js';

function send(port: SerialPort, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    port.write(Buffer.from(bytes), (error) =>
      error ? reject(error) : port.drain(() => resolve()),
    );
  });
}

describe('LcusSimulator', () => {
  let pair: PtyPair;
  let board: LcusSimulator;
  let host: SerialPort;
  let teardown: () => Promise<void>;

  beforeEach(async () => {
    // Device first: a replug then resolves only once the board listens on the new terminal.
    const rig = await startSimulatorPair(
      'simulator-test',
      (path) => new LcusSimulator(path, { channels: 4 }),
    );
    ({ pair, simulator: board, teardown } = rig);
    host = await openHost(pair.a);
  });

  afterEach(async () => {
    await closeHost(host);
    await teardown();
  });

  it('records each frame with its arrival time and sets the coil it names', async () => {
    const before = Date.now();
    await send(host, encodeLcusFrame({ channel: 3, on: true }));

    const frame = await board.waitForFrame((received) => received.channel === 3);

    expect(frame).toMatchObject({ channel: 3, on: true, bytes: Uint8Array.of(0xa0, 3, 1, 0xa4) });
    expect(frame.at).toBeGreaterThanOrEqual(before);
    expect(board.coil(3)).toBe(true);
    expect(board.contactClosed(3)).toBe(true);
    expect(board.coil(1)).toBe(false);
  });

  it('tells each frame to its listeners until they unsubscribe', async () => {
    const heard: boolean[] = [];
    const unsubscribe = board.onFrame((frame) => heard.push(frame.on));
    await send(host, encodeLcusFrame({ channel: 1, on: true }));
    await board.waitForFrame((frame) => frame.on);

    unsubscribe();
    await send(host, encodeLcusFrame({ channel: 1, on: false }));
    await board.waitForFrame((frame) => !frame.on);

    expect(heard).toEqual([true]);
    expect(board.listenerCounts().frame).toBe(0);
  });

  it('finds a frame that already arrived, from a given index on', async () => {
    await send(host, encodeLcusFrame({ channel: 1, on: true }));
    await send(host, encodeLcusFrame({ channel: 2, on: true }));
    await board.waitForFrame((frame) => frame.channel === 2);

    const found = await board.waitForFrame((frame) => frame.on, 100, 1);

    expect(found.channel).toBe(2);
  });

  it('rejects waitForFrame with the timeout code when nothing matches', async () => {
    await expect(board.waitForFrame((frame) => frame.channel === 4, 50)).rejects.toSatisfy(
      (error) => hasCode(error, 'timeout'),
    );
  });

  it('rejects a corrupted frame with its reason and leaves the coil alone', async () => {
    await send(host, Uint8Array.of(0xa0, 0x01, 0x01, 0xa3));
    await send(host, encodeLcusFrame({ channel: 2, on: true }));
    await board.waitForFrame((frame) => frame.channel === 2);

    expect(board.rejected().map((rejected) => rejected.error.code)).toEqual(['checksum']);
    expect(board.coil(1)).toBe(false);
  });

  it('in corrupt mode damages every frame, so none is acted on', async () => {
    board.setMode('corrupt');
    const rejected = new Promise((resolve) => board.onRejected(resolve));

    await send(host, encodeLcusFrame({ channel: 1, on: true }));
    await rejected;

    expect(board.frames()).toEqual([]);
    expect(board.coil(1)).toBe(false);
  });

  it('in ignore mode plays a dead board until it is set back to normal', async () => {
    board.setMode('ignore');
    await send(host, encodeLcusFrame({ channel: 1, on: true }));
    await expect.poll(() => board.ignoredBytes, { timeout: 2_000 }).toBe(4);
    board.setMode('normal');
    await send(host, encodeLcusFrame({ channel: 2, on: true }));

    await board.waitForFrame((frame) => frame.channel === 2);

    expect(board.frames().map((frame) => frame.channel)).toEqual([2]);
    expect(board.coil(1)).toBe(false);
  });

  it('forgets recorded frames on clear but keeps the coils', async () => {
    await send(host, encodeLcusFrame({ channel: 4, on: true }));
    await board.waitForFrame((frame) => frame.channel === 4);

    board.clear();

    expect(board.frames()).toEqual([]);
    expect(board.coil(4)).toBe(true);
  });

  it('reports the contact the other way round for inverted wiring', () => {
    const inverted = new LcusSimulator(pair.b, { invertedWiring: true });

    expect(inverted.coil(1)).toBe(false);
    expect(inverted.contactClosed(1)).toBe(true);
  });

  it('reopens by itself after a replug, back in its power-up state', async () => {
    board.setCoil(1, true);
    await closeHost(host);

    await pair.unplug();
    await pair.replug();
    host = await openHost(pair.a);
    await send(host, encodeLcusFrame({ channel: 2, on: true }));

    await board.waitForFrame((frame) => frame.channel === 2);
    expect(board.coil(1)).toBe(false);
  });
});
