import { SerialPort } from 'serialport';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { hasCode, KioskError } from '../app/common/errors.js';
import { moduleLogger } from '../app/core/log.js';
import { SerialConnection, type SerialConnectionHandlers } from './serial-connection.js';
import { nextState } from './testing/device-contract.js';
import { startPtyPair, type PtyPair } from './testing/pty-pair.js';

const log = moduleLogger('serial-connection.test');

async function pair(): Promise<PtyPair> {
  const started = await startPtyPair();
  onTestFinished(() => started.close());
  return started;
}

/** The device's end of the pair, opened as a board would hold it. */
async function deviceEnd(path: string): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((error) => (error ? reject(error) : resolve())),
  );
  onTestFinished(() => new Promise<void>((resolve) => port.close(() => resolve())));
  return port;
}

function connect(
  path: string,
  handlers: SerialConnectionHandlers = {},
  keepPortOnFailedHandshake = false,
): SerialConnection {
  const connection = new SerialConnection(
    {
      path,
      baudRate: 9600,
      reconnectIntervalMs: 20,
      name: 'test',
      device: { port: path },
      keepPortOnFailedHandshake,
    },
    log,
    handlers,
  );
  onTestFinished(() => connection.close());
  return connection;
}

/** A handshake that fails `refusals` times with a timeout, then passes; records each port. */
function refusingHandshake(refusals: number): {
  ports: Set<SerialPort>;
  handshake: (port: SerialPort) => Promise<void>;
} {
  const ports = new Set<SerialPort>();
  let left = refusals;
  const handshake = (port: SerialPort): Promise<void> => {
    ports.add(port);
    left -= 1;
    return left >= 0 ? Promise.reject(new KioskError('timeout', 'no answer')) : Promise.resolve();
  };
  return { ports, handshake };
}

describe('SerialConnection', () => {
  it('hands over the bytes read and writes bytes to the device', async () => {
    const { a, b } = await pair();
    const device = await deviceEnd(b);
    const chunks: Buffer[] = [];
    const connection = connect(a, { data: (chunk) => chunks.push(chunk) });

    await connection.open();
    device.write(Buffer.from('hello'));
    const atDevice = new Promise<Buffer>((resolve) => device.once('data', resolve));
    await connection.write(connection.port!, Uint8Array.from([1, 2]));

    expect(connection.state).toBe('connected');
    await vi.waitFor(() => expect(Buffer.concat(chunks).toString()).toBe('hello'));
    expect([...(await atDevice)]).toEqual([1, 2]);
  });

  it('rejects open while the port is absent and connects once it appears', async () => {
    const started = await pair();
    await started.unplug();
    const connection = connect(started.a);

    await expect(connection.open()).rejects.toSatisfy((error) => hasCode(error, 'disconnected'));
    const up = nextState(connection, 'connected');
    await started.replug();
    await up;
  });

  it('reopens the port after a failed handshake unless told to keep it', async () => {
    const { a } = await pair();
    const { ports, handshake } = refusingHandshake(1);
    const connection = connect(a, { handshake });

    await expect(connection.open()).rejects.toThrow('no answer');
    expect(connection.state).toBe('error');
    expect(connection.port).toBeUndefined();

    await nextState(connection, 'connected');
    expect(ports.size).toBe(2);
  });

  it('keeps the port after a failed handshake when told to, and retries on it', async () => {
    const { a } = await pair();
    const { ports, handshake } = refusingHandshake(2);
    const connection = connect(a, { handshake }, true);

    await expect(connection.open()).rejects.toThrow('no answer');
    expect(connection.state).toBe('error');

    await nextState(connection, 'connected');
    expect(ports.size).toBe(1);
  });

  it('reports an unplug as disconnected, tells the driver, and reconnects after a replug', async () => {
    const started = await pair();
    const lostErrors: Error[] = [];
    const connection = connect(started.a, { lost: (error) => lostErrors.push(error) });
    await connection.open();
    const before = connection.listenerCounts();

    for (let cycle = 0; cycle < 3; cycle += 1) {
      const down = nextState(connection, 'disconnected');
      await started.unplug();
      const { error } = await down;
      expect(hasCode(error, 'disconnected')).toBe(true);

      const up = nextState(connection, 'connected');
      await started.replug();
      await up;
    }

    expect(lostErrors).toHaveLength(3);
    expect(connection.listenerCounts()).toEqual(before);
  });

  it('lets the driver end its work and say goodbye before it closes the port', async () => {
    const { a, b } = await pair();
    const device = await deviceEnd(b);
    const steps: string[] = [];
    const connection = connect(a, {
      closing: () => {
        steps.push('closing');
        return Promise.resolve();
      },
      farewell: async (port) => {
        steps.push(`farewell, still current: ${String(connection.isCurrent(port))}`);
        await connection.write(port, Uint8Array.from([0xff]));
      },
    });
    await connection.open();
    const atDevice = new Promise<Buffer>((resolve) => device.once('data', resolve));

    await connection.close();

    expect(steps).toEqual(['closing', 'farewell, still current: false']);
    expect([...(await atDevice)]).toEqual([0xff]);
    expect(connection.state).toBe('disconnected');
    expect(connection.port).toBeUndefined();
  });
});
