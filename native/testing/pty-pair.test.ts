import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SerialPort } from 'serialport';
import { describe, expect, it, onTestFinished } from 'vitest';
import { hasCode } from '../../app/common/errors.js';
import { closeHost as closePort, openHost as openPort } from './host-port.js';
import { startPtyPair, type PtyPair } from './pty-pair.js';

function firstData(port: SerialPort): Promise<Buffer> {
  return new Promise((resolve) => port.once('data', resolve));
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiosk-pty-test-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function closedAtEnd(pair: PtyPair): PtyPair {
  onTestFinished(() => pair.close());
  return pair;
}

describe('startPtyPair', () => {
  it('links two terminals that carry bytes both ways', async () => {
    const pair = closedAtEnd(await startPtyPair());
    const a = await openPort(pair.a);
    const b = await openPort(pair.b);
    onTestFinished(async () => {
      await closePort(a);
      await closePort(b);
    });

    const atB = firstData(b);
    a.write(Buffer.from([0xa0, 0x01, 0x01, 0xa2]));
    expect([...(await atB)]).toEqual([0xa0, 0x01, 0x01, 0xa2]);

    const atA = firstData(a);
    b.write(Buffer.from('ok'));
    expect((await atA).toString()).toBe('ok');
  });

  it('unplugs by killing socat, removing both links, and replugs on the same paths', async () => {
    const pair = closedAtEnd(await startPtyPair());
    const { a, b } = pair;

    await pair.unplug();
    expect(pair.plugged).toBe(false);
    expect(existsSync(a) || existsSync(b)).toBe(false);

    await pair.replug();
    expect(pair.plugged).toBe(true);
    expect([pair.a, pair.b]).toEqual([a, b]);
    expect(existsSync(a) && existsSync(b)).toBe(true);
  });

  it('leaves nothing to open while unplugged, and a working port again after the replug', async () => {
    const pair = closedAtEnd(await startPtyPair());

    await pair.unplug();
    await expect(openPort(pair.a)).rejects.toThrow(/No such file/);

    await pair.replug();
    const port = await openPort(pair.a);
    onTestFinished(() => closePort(port));
    expect(port.isOpen).toBe(true);
  });

  it('removes the folder it made on close but leaves a folder it was given', async () => {
    const made = await startPtyPair();
    const given = await tempDir();
    const inGiven = await startPtyPair(given);

    await made.close();
    await inGiven.close();

    expect(existsSync(join(made.a, '..'))).toBe(false);
    expect(existsSync(given)).toBe(true);
    expect(inGiven.plugged).toBe(false);
  });

  it('with deviceFirst, makes the driver end appear only once the device end is open', async () => {
    const dir = await tempDir();
    const starting = startPtyPair(dir, { deviceFirst: true });
    await expect.poll(() => existsSync(join(dir, 'b')), { timeout: 5_000 }).toBe(true);
    expect(existsSync(join(dir, 'a'))).toBe(false);

    const device = await openPort(join(dir, 'b'));
    onTestFinished(() => closePort(device));
    const pair = closedAtEnd(await starting);

    expect(existsSync(pair.a)).toBe(true);
  });

  it('with restartOnExit, starts socat again on the same paths when it dies unasked', async () => {
    const pair = closedAtEnd(await startPtyPair(undefined, { restartOnExit: true }));
    const first = pair.pid!;

    process.kill(first, 'SIGKILL');

    await expect.poll(() => pair.pid !== undefined && pair.pid !== first).toBe(true);
    await expect.poll(() => existsSync(pair.a) && existsSync(pair.b)).toBe(true);
    const port = await openPort(pair.a);
    onTestFinished(() => closePort(port));
  });

  it('gives up with the timeout code when the device end is never opened', async () => {
    const dir = await tempDir();

    await expect(startPtyPair(dir, { deviceFirst: true, startTimeoutMs: 200 })).rejects.toSatisfy(
      (error) => hasCode(error, 'timeout'),
    );
    expect(existsSync(join(dir, 'b'))).toBe(false);
  });

  it('says plainly that socat is missing when it cannot be found', async () => {
    const emptyPath = await tempDir();
    const path = process.env.PATH;
    process.env.PATH = emptyPath;
    onTestFinished(() => {
      process.env.PATH = path;
    });

    await expect(startPtyPair()).rejects.toSatisfy(
      (error) => hasCode(error, 'not_found') && /socat is not installed/.test(String(error)),
    );
  });
});
