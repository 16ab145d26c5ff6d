import { describe, expect, it, onTestFinished } from 'vitest';
import { hasCode } from '../../app/common/errors.js';
import { nextState } from '../testing/device-contract.js';
import type { PtyPair } from '../testing/pty-pair.js';
import { startSimulatorPair } from '../testing/simulator-pair.js';
import { toHex } from './lcus-protocol.js';
import { ModbusRelay, type ModbusRelayOptions } from './modbus.js';
import { ModbusSimulator, type ModbusSimulatorOptions } from './modbus-simulator.js';
import {
  describeRelayContract,
  modbusBoardView,
  type RelayContractHarness,
} from './relay.contract.js';

const channel = 2;
const boardChannels = 4;

/** How one kind of board is addressed, as the driver and the simulated board both see it. */
interface BoardKind {
  address: number;
  coilBase: 0 | 1;
  onValue: 'FF00' | '0100';
  flash: boolean;
}

const boardKinds: Record<string, BoardKind> = {
  'coils from 0, on as FF 00, software pulse': {
    address: 1,
    coilBase: 0,
    onValue: 'FF00',
    flash: false,
  },
  'coils from 1, on as 01 00, address 255, software pulse': {
    address: 255,
    coilBase: 1,
    onValue: '0100',
    flash: false,
  },
  'Waveshare flash pulse': { address: 1, coilBase: 0, onValue: 'FF00', flash: true },
};

/** A simulated board and the pair it sits on; the board powers up with every relay on. */
async function simulatedBoard(
  kind: BoardKind,
  options: ModbusSimulatorOptions = {},
): Promise<{ board: ModbusSimulator; pair: PtyPair; teardown: () => Promise<void> }> {
  const {
    simulator: board,
    pair,
    teardown,
  } = await startSimulatorPair(
    'modbus-test',
    (path) =>
      new ModbusSimulator(path, {
        channels: boardChannels,
        powerUpOn: true,
        address: kind.address,
        coilBase: kind.coilBase,
        onValue: kind.onValue,
        ...options,
      }),
  );
  return { board, pair, teardown };
}

function driverOptions(kind: BoardKind, port: string): ModbusRelayOptions {
  return {
    port,
    channel,
    boardChannels,
    address: kind.address,
    coilBase: kind.coilBase,
    onValue: kind.onValue,
    flash: kind.flash,
    reconnectIntervalMs: 50,
    // Generous: the suite runs beside others on two cores, and a late echo fails a pulse.
    echoTimeoutMs: 1_000,
  };
}

async function simulatedHarness(kind: BoardKind): Promise<RelayContractHarness> {
  const { board, pair, teardown } = await simulatedBoard(kind);

  return {
    channel,
    boardChannels,
    invertible: !kind.flash,
    board: modbusBoardView(board),
    createRelay: ({ invert }) => new ModbusRelay({ ...driverOptions(kind, pair.a), invert }),
    unplug: () => pair.unplug(),
    replug: () => pair.replug(),
    teardown,
  };
}

for (const [name, kind] of Object.entries(boardKinds)) {
  describeRelayContract(`ModbusRelay on the simulated board (${name})`, () =>
    simulatedHarness(kind),
  );
}

const realPort = process.env.KIOSK_TEST_MODBUS_PORT;
const realChannel = Number(process.env.KIOSK_TEST_MODBUS_CHANNEL ?? 1);

describe.skipIf(!realPort)(
  'real Modbus board (set KIOSK_TEST_MODBUS_PORT=/dev/ttyUSB0 to run; KIOSK_TEST_MODBUS_CHANNEL, _ADDRESS, _COIL_BASE=1, _ON_VALUE=0100 and _FLASH=1 describe the board)',
  () => {
    const env = process.env;
    const flash = env.KIOSK_TEST_MODBUS_FLASH === '1';
    describeRelayContract(`ModbusRelay on ${realPort ?? 'no port'}`, () =>
      Promise.resolve({
        channel: realChannel,
        boardChannels: realChannel,
        invertible: !flash,
        createRelay: ({ invert }) =>
          new ModbusRelay({
            port: realPort!,
            channel: realChannel,
            address: Number(env.KIOSK_TEST_MODBUS_ADDRESS ?? 1),
            coilBase: env.KIOSK_TEST_MODBUS_COIL_BASE === '1' ? 1 : 0,
            onValue: env.KIOSK_TEST_MODBUS_ON_VALUE === '0100' ? '0100' : 'FF00',
            flash,
            invert,
            reconnectIntervalMs: 200,
          }),
        teardown: () => Promise.resolve(),
      }),
    );
  },
);

describe('ModbusRelay beyond the contract', () => {
  const plain = boardKinds['coils from 0, on as FF 00, software pulse'];
  const flashing = boardKinds['Waveshare flash pulse'];

  async function connected(
    kind: BoardKind,
    options: Partial<ModbusRelayOptions> = {},
    boardOptions: ModbusSimulatorOptions = {},
  ): Promise<{ relay: ModbusRelay; board: ModbusSimulator }> {
    const { board, pair, teardown } = await simulatedBoard(kind, boardOptions);
    onTestFinished(teardown);
    const relay = new ModbusRelay({ ...driverOptions(kind, pair.a), ...options });
    onTestFinished(() => relay.close());
    await relay.open();
    await board.waitForSwitch((change) => change.channel === boardChannels);
    board.clear();
    return { relay, board };
  }

  it('leaves the end of a flash pulse to the board: no off frame follows the flash', async () => {
    const { relay, board } = await connected(flashing);

    await relay.pulse(300);

    const end = await board.waitForSwitch((change) => change.cause === 'flash_end');
    expect(board.frames().map((frame) => toHex(frame.bytes))).toEqual(['01 05 02 01 00 03 DD B3']);
    const flash = board.switches().find((change) => change.cause === 'flash');
    expect(end.at - flash!.at).toBeGreaterThanOrEqual(290);
  });

  it('fails a pulse the board does not echo with timeout, goes to error, and recovers without a pulse', async () => {
    const { relay, board } = await connected(plain, { echoTimeoutMs: 200 });
    board.setMode('ignore');
    const faulted = nextState(relay, 'error');

    await expect(relay.pulse(100)).rejects.toSatisfy((error) => hasCode(error, 'timeout'));

    expect((await faulted).error).toSatisfy((error) => hasCode(error, 'timeout'));
    await expect(relay.pulse(100)).rejects.toSatisfy((error) => hasCode(error, 'disconnected'));
    const back = nextState(relay, 'connected');
    board.setMode('normal');
    await back;
    // Back through drive-off alone: every channel off, none on.
    expect(board.switches().map((change) => change.on)).toEqual([false, false, false, false]);
  });

  it('opens the contact at once when the board acted on a request whose echo came back damaged', async () => {
    const { relay, board } = await connected(plain, { echoTimeoutMs: 300 });
    board.setMode('corrupt');

    await expect(relay.pulse(5_000)).rejects.toSatisfy((error) => hasCode(error, 'checksum'));

    await board.waitForSwitch((change) => !change.on);
    expect(board.switches().map((change) => change.on)).toEqual([true, false]);
    expect(relay.state).toBe('error');
  });

  it('waits for a slow board within the echo timeout and gives up beyond it', async () => {
    const { relay, board } = await connected(plain, { echoTimeoutMs: 500 });
    board.setReplyDelay(100);

    await relay.pulse(50);

    board.setReplyDelay(1_000);
    await expect(relay.pulse(50)).rejects.toSatisfy((error) => hasCode(error, 'timeout'));
  });

  it('never takes a late echo for the answer to the next request', async () => {
    const { relay, board } = await connected(plain, { echoTimeoutMs: 200 });
    board.setReplyDelay(300);
    await expect(relay.pulse(50)).rejects.toSatisfy((error) => hasCode(error, 'timeout'));
    board.setReplyDelay(0);

    await nextState(relay, 'connected');

    // Back only once a drive-off got its own echo; the late ones were not taken for it.
    expect(board.coil(channel)).toBe(false);
    await relay.pulse(50);
  });

  it('reports a board that refuses flash coils as bad_frame, naming the exception', async () => {
    const { relay } = await connected(flashing, {}, { flash: false });

    await expect(relay.pulse(300)).rejects.toSatisfy(
      (error) => hasCode(error, 'bad_frame') && /illegal data address/.test(error.message),
    );
  });

  it('gets no answer from a board on another address, and stays out of connected', async () => {
    const { board, pair, teardown } = await simulatedBoard(plain, { address: 7 });
    onTestFinished(teardown);
    const relay = new ModbusRelay({ ...driverOptions(plain, pair.a), echoTimeoutMs: 200 });
    onTestFinished(() => relay.close());

    await expect(relay.open()).rejects.toSatisfy((error) => hasCode(error, 'timeout'));

    expect(relay.state).toBe('error');
    expect(board.frames()).toEqual([]);
  });

  it('drops a pulse that waited longer than staleAfterMs for its turn', async () => {
    const { relay, board } = await connected(plain, { staleAfterMs: 100 });

    const first = relay.pulse(300);
    const stale = relay.pulse(50);

    await first;
    await expect(stale).rejects.toSatisfy((error) => hasCode(error, 'timeout'));
    expect(board.switches().filter((change) => change.on)).toHaveLength(1);
  });

  it('refuses settings that cannot work, naming them', () => {
    const port = '/dev/null';
    const refused = [
      { port, channel: 0 },
      { port, channel: 33 },
      { port, channel: 3, boardChannels: 2 },
      { port, channel: 1, address: 0 },
      { port, channel: 1, address: 250 },
      { port, channel: 1, flash: true, invert: true },
      { port, channel: 1, echoTimeoutMs: 0 },
    ];

    for (const options of refused) {
      expect(() => new ModbusRelay(options), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'config_invalid' }),
      );
    }
  });
});
