/**
 * The barrier fails closed: whatever arrives on the line and however often the kiosk restarts,
 * a relay driver sends an "on" only for a pulse it was asked for. Each kind of board is played by
 * a bare port here, so the test sees every byte the driver writes and can put any byte on the
 * line itself, as a faulty board, a crossed cable or a replayed capture would.
 */
import type { SerialPort } from 'serialport';
import { describe, expect, it, onTestFinished } from 'vitest';
import { closeHost, openHost } from '../testing/host-port.js';
import { startPtyPair } from '../testing/pty-pair.js';
import { LcusRelay } from './lcus.js';
import { encodeLcusFrame } from './lcus-protocol.js';
import { ModbusRelay } from './modbus.js';
import { switchFrame } from './modbus-protocol.js';
import type { SerialRelay } from './serial-relay.js';

const channel = 1;
// Long enough for bytes to cross a pseudo-terminal and for a driver to act on them.
const settleMs = 300;
const addressing = { address: 1, coilBase: 0, onValue: 'FF00' } as const;

interface BoardKind {
  relay(port: string): SerialRelay;
  onFrame: Uint8Array;
  offFrame: Uint8Array;
  /** Modbus boards echo each request; LCUS boards say nothing. */
  echoes: boolean;
}

const kinds: Record<string, BoardKind> = {
  LCUS: {
    relay: (port) => new LcusRelay({ port, channel }),
    onFrame: encodeLcusFrame({ channel, on: true }),
    offFrame: encodeLcusFrame({ channel, on: false }),
    echoes: false,
  },
  'Modbus RTU': {
    relay: (port) => new ModbusRelay({ port, channel, ...addressing }),
    onFrame: switchFrame(addressing, channel, true),
    offFrame: switchFrame(addressing, channel, false),
    echoes: true,
  },
};

/** A bare board end: records what the driver wrote, echoes it if the kind does. */
async function bareBoard(path: string, echoes: boolean) {
  const port: SerialPort = await openHost(path);
  onTestFinished(() => closeHost(port));
  let written = '';
  port.on('data', (chunk: Buffer) => {
    written += chunk.toString('hex');
    if (echoes) port.write(chunk);
  });
  return {
    port,
    written: () => written,
    clear: () => void (written = ''),
  };
}

function count(haystack: string, frame: Uint8Array): number {
  return haystack.split(Buffer.from(frame).toString('hex')).length - 1;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

for (const [name, kind] of Object.entries(kinds)) {
  describe(`a ${name} relay driver`, () => {
    it('sends no "on" for frames replayed onto the line from the board side', async () => {
      const pair = await startPtyPair();
      onTestFinished(() => pair.close());
      const board = await bareBoard(pair.b, kind.echoes);
      const relay = kind.relay(pair.a);
      onTestFinished(() => relay.close());
      await relay.open();
      await relay.pulse(20);
      expect(count(board.written(), kind.onFrame)).toBe(1);
      board.clear();

      // A captured on frame and its echo, played back to the driver again and again.
      for (let copy = 0; copy < 5; copy += 1) board.port.write(Buffer.from(kind.onFrame));
      await sleep(settleMs);

      expect(count(board.written(), kind.onFrame)).toBe(0);
    });

    it('sends only "off" when the kiosk restarts on the same board, however it stopped', async () => {
      const pair = await startPtyPair();
      onTestFinished(() => pair.close());
      const board = await bareBoard(pair.b, kind.echoes);
      const first = kind.relay(pair.a);
      await first.open();
      // Stopped in the middle of a pulse, as a crash or a power cut would stop it.
      const cut = first.pulse(5_000).catch(() => undefined);
      await expect.poll(() => count(board.written(), kind.onFrame)).toBe(1);
      await first.close();
      await cut;
      board.clear();

      const second = kind.relay(pair.a);
      onTestFinished(() => second.close());
      await second.open();
      await sleep(settleMs);

      expect(count(board.written(), kind.offFrame)).toBeGreaterThanOrEqual(1);
      expect(count(board.written(), kind.onFrame)).toBe(0);
    });
  });
}
