import type { SerialPort } from 'serialport';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { hasCode } from '../../app/common/errors.js';
import { closeHost, openHost } from '../testing/host-port.js';
import type { PtyPair } from '../testing/pty-pair.js';
import { startSimulatorPair } from '../testing/simulator-pair.js';
import { toHex } from './lcus-protocol.js';
import {
  defaultModbusAddressing,
  encodeCoilWrite,
  flashFrame,
  ModbusReplyParser,
  switchFrame,
  type ModbusParseResult,
} from './modbus-protocol.js';
import { ModbusSimulator } from './modbus-simulator.js';

const addressing = defaultModbusAddressing;

/** Sends a request and resolves with the first thing the board answers. */
function ask(port: SerialPort, request: Uint8Array): Promise<ModbusParseResult> {
  const parser = new ModbusReplyParser();
  const answered = new Promise<ModbusParseResult>((resolve) => {
    const onData = (chunk: Buffer): void => {
      const [result] = parser.push(chunk);
      if (!result) return;

      port.off('data', onData);
      resolve(result);
    };
    port.on('data', onData);
  });
  port.write(Buffer.from(request));
  return answered;
}

describe('ModbusSimulator', () => {
  let pair: PtyPair;
  let board: ModbusSimulator;
  let host: SerialPort;
  let teardown: () => Promise<void>;

  beforeEach(async () => {
    const rig = await startSimulatorPair(
      'modbus-simulator-test',
      (path) => new ModbusSimulator(path, { channels: 4 }),
    );
    ({ pair, simulator: board, teardown } = rig);
    host = await openHost(pair.a);
  });

  afterEach(async () => {
    await closeHost(host);
    await teardown();
  });

  it('echoes a write, records it with its arrival time and sets the coil', async () => {
    const before = Date.now();
    const request = switchFrame(addressing, 3, true);

    const reply = await ask(host, request);

    expect(reply).toMatchObject({ kind: 'frame', bytes: request });
    const [frame] = board.frames();
    expect(frame).toMatchObject({ channel: 3, on: true, flashMs: undefined, refused: undefined });
    expect(frame.at).toBeGreaterThanOrEqual(before);
    expect(board.coil(3)).toBe(true);
    expect(board.coil(1)).toBe(false);
  });

  it('refuses a coil it lacks with exception 02 and a value it does not know with 03', async () => {
    const noSuchCoil = await ask(host, switchFrame(addressing, 9, true));
    const oddValue = await ask(host, encodeCoilWrite({ address: 1, coil: 0, value: 0x1234 }));

    expect(noSuchCoil).toMatchObject({ kind: 'exception', exception: 2 });
    expect(oddValue).toMatchObject({ kind: 'exception', exception: 3 });
    expect(board.switches()).toEqual([]);
  });

  it('releases a flash by its own timer after value × 100 ms', async () => {
    await ask(host, flashFrame(addressing, 1, 200));

    const end = await board.waitForSwitch((change) => change.cause === 'flash_end');

    const [start] = board.switches();
    expect(start).toMatchObject({ channel: 1, on: true, cause: 'flash' });
    expect(end.at - start.at).toBeGreaterThanOrEqual(190);
    expect(board.coil(1)).toBe(false);
  });

  it('cuts a flash short when told off, and never releases it twice', async () => {
    await ask(host, flashFrame(addressing, 1, 200));
    await ask(host, switchFrame(addressing, 1, false));
    await ask(host, flashFrame(addressing, 2, 300));

    await board.waitForSwitch((change) => change.cause === 'flash_end');

    expect(board.switches().map((change) => [change.channel, change.cause])).toEqual([
      [1, 'flash'],
      [1, 'write'],
      [2, 'flash'],
      [2, 'flash_end'],
    ]);
  });

  it('keeps quiet about requests for another address', async () => {
    const other = switchFrame({ ...addressing, address: 2 }, 1, true);
    host.write(Buffer.from(other));
    const mine = await ask(host, switchFrame(addressing, 2, true));

    expect(mine).toMatchObject({ kind: 'frame' });
    expect(board.frames().map((frame) => frame.channel)).toEqual([2]);
    expect(board.rejected().map((rejected) => toHex(rejected.bytes))).toEqual([toHex(other)]);
  });

  it('in corrupt mode acts on the request but damages its echo', async () => {
    board.setMode('corrupt');

    const reply = await ask(host, switchFrame(addressing, 1, true));

    expect(reply.kind === 'error' && reply.error.code).toBe('checksum');
    expect(board.coil(1)).toBe(true);
  });

  it('answers after the scripted delay', async () => {
    board.setReplyDelay(150);
    const sent = Date.now();

    await ask(host, switchFrame(addressing, 1, true));

    expect(Date.now() - sent).toBeGreaterThanOrEqual(140);
  });

  it('in ignore mode plays a dead board until set back to normal', async () => {
    board.setMode('ignore');
    host.write(Buffer.from(switchFrame(addressing, 1, true)));
    await expect.poll(() => board.ignoredBytes, { timeout: 2_000 }).toBe(8);
    board.setMode('normal');

    await ask(host, switchFrame(addressing, 2, true));

    expect(board.frames().map((frame) => frame.channel)).toEqual([2]);
    expect(board.coil(1)).toBe(false);
  });

  it('rejects waitForSwitch with the timeout code when nothing matches', async () => {
    await expect(board.waitForSwitch(() => true, 50)).rejects.toSatisfy((error) =>
      hasCode(error, 'timeout'),
    );
  });

  it('reopens by itself after a replug, in its power-up state with no flash left running', async () => {
    await ask(host, flashFrame(addressing, 1, 5_000));
    await closeHost(host);

    await pair.unplug();
    await pair.replug();
    host = await openHost(pair.a);
    await ask(host, switchFrame(addressing, 2, true));

    expect(board.coil(1)).toBe(false);
    expect(board.switches().some((change) => change.cause === 'flash_end')).toBe(false);
    expect(board.listenerCounts()).toEqual({ frame: 0, switch: 0, port: 3 });
  });
});

describe('ModbusSimulator of a generic board', () => {
  it('counts coils from 1 and takes 01 00 as on when built so', async () => {
    const {
      simulator: board,
      port,
      teardown,
    } = await startSimulatorPair(
      'modbus-simulator-test',
      (path) => new ModbusSimulator(path, { coilBase: 1, onValue: '0100' }),
    );
    const host = await openHost(port);
    onTestFinished(async () => {
      await closeHost(host);
      await teardown();
    });

    const request = switchFrame({ address: 1, coilBase: 1, onValue: '0100' }, 1, true);
    expect(await ask(host, request)).toMatchObject({ kind: 'frame' });
    expect(board.coil(1)).toBe(true);

    // Coil 0 does not exist there, and FF 00 is not its on.
    const coilZero = await ask(host, switchFrame(addressing, 1, true));
    expect(coilZero).toMatchObject({ kind: 'exception', exception: 2 });
    const ffOn = await ask(host, switchFrame({ ...addressing, coilBase: 1 }, 1, true));
    expect(ffOn).toMatchObject({ kind: 'exception', exception: 3 });
  });
});
