import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { hasCode, type KioskError } from '../../app/common/errors.js';
import { nextState } from '../testing/device-contract.js';
import { closeHost, openHost } from '../testing/host-port.js';
import { startPtyPair } from '../testing/pty-pair.js';
import type { ScanSuffix } from './line-splitter.js';
import {
  collectScans,
  describeScannerContract,
  nextScan,
  type ScannerContractHarness,
} from './scanner.contract.js';
import { SerialScanner, type SerialScannerOptions } from './serial-scanner.js';
import { resourceCounts } from './testing/resources.js';
import { startSerialRig, type SerialRig } from './testing/serial-rig.js';

/** Until the bytes written so far have crossed the pty and been read. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 30));

async function simulatedHarness(): Promise<ScannerContractHarness> {
  const rig = await startSerialRig();
  return {
    source: 'serial',
    createScanner: () => new SerialScanner({ port: rig.port, reconnectIntervalMs: 50 }),
    present: (payload, { split }) =>
      rig.simulator.scan(payload, split ? { chunks: 5, chunkDelayMs: 5 } : {}),
    unplug: () => rig.pair.unplug(),
    replug: () => rig.pair.replug(),
    settle,
    teardown: () => rig.teardown(),
  };
}

describeScannerContract('SerialScanner on the simulated scanner', simulatedHarness);

const realPort = process.env.KIOSK_TEST_SCANNER_PORT;
const realSuffix = (process.env.KIOSK_TEST_SCANNER_SUFFIX ?? 'CR') as ScanSuffix;

describe.skipIf(!realPort)(
  'real serial scanner (set KIOSK_TEST_SCANNER_PORT=/dev/ttyACM0 to run)',
  () => {
    describeScannerContract(`SerialScanner on ${realPort ?? 'no port'}`, () =>
      Promise.resolve({
        source: 'serial',
        createScanner: () =>
          new SerialScanner({ port: realPort!, suffix: realSuffix, reconnectIntervalMs: 200 }),
        settle: () => new Promise<void>((resolve) => setTimeout(resolve, 50)),
        teardown: () => Promise.resolve(),
      }),
    );
  },
);

/** A rig and an opened driver on it, both gone when the test ends. */
async function openOnRig(
  options: Partial<SerialScannerOptions> = {},
  simulatorSuffix: ScanSuffix = options.suffix ?? 'CR',
): Promise<{ rig: SerialRig; scanner: SerialScanner }> {
  const rig = await startSerialRig({ suffix: simulatorSuffix });
  onTestFinished(() => rig.teardown());
  const scanner = new SerialScanner({ port: rig.port, reconnectIntervalMs: 50, ...options });
  onTestFinished(() => scanner.close());
  await scanner.open();
  return { rig, scanner };
}

function collectErrors(scanner: SerialScanner): () => KioskError[] {
  const errors: KioskError[] = [];
  onTestFinished(scanner.onError((error) => errors.push(error)));
  return () => [...errors];
}

function nextError(scanner: SerialScanner): Promise<KioskError> {
  return new Promise((resolve) => {
    const off = scanner.onError((error) => {
      off();
      resolve(error);
    });
  });
}

describe('SerialScanner beyond the contract', () => {
  it.each<ScanSuffix>(['CR', 'LF', 'CRLF', 'Tab'])(
    'splits codes ended by %s, two of them sent in one write',
    async (suffix) => {
      const { rig, scanner } = await openOnRig({ suffix });
      const scans = collectScans(scanner);

      const first = nextScan(scanner);
      await rig.simulator.scan('first-code', { suffix: null });
      await rig.simulator.sendRaw(new TextEncoder().encode(suffixText(suffix)));
      expect((await first).text).toBe('first-code');

      const second = nextScan(scanner);
      await rig.simulator.scan('second-code');
      expect((await second).text).toBe('second-code');
      expect(scans().map((scan) => scan.text)).toEqual(['first-code', 'second-code']);
    },
  );

  it('reads a scanner sending CR LF on a port set to CR without a stray LF', async () => {
    const { rig, scanner } = await openOnRig({ suffix: 'CR' }, 'CRLF');
    const scans = collectScans(scanner);

    const second = new Promise<void>((resolve) =>
      scanner.onScan(() => scans().length === 2 && resolve()),
    );
    await rig.simulator.scan('one');
    await rig.simulator.scan('two');
    await second;

    expect(scans().map((scan) => scan.text)).toEqual(['one', 'two']);
  });

  it('drops an oversized line with bad_frame and reads the next code whole', async () => {
    const { rig, scanner } = await openOnRig({ maxLineBytes: 64 });
    const scans = collectScans(scanner);

    const dropped = nextError(scanner);
    await rig.simulator.scan('x'.repeat(200), { chunks: 4 });
    expect(hasCode(await dropped, 'bad_frame')).toBe(true);

    const next = nextScan(scanner);
    await rig.simulator.scan('after-overflow');
    expect((await next).text).toBe('after-overflow');
    expect(scans()).toHaveLength(1);
  });

  it('drops a code whose suffix was lost once its gap passes, and reads the next', async () => {
    const { rig, scanner } = await openOnRig({ gapMs: 50 });
    const abandoned = nextError(scanner);

    await rig.simulator.scan('lost-suffix', { corrupt: 'no-suffix' });

    expect(hasCode(await abandoned, 'timeout')).toBe(true);
    const next = nextScan(scanner);
    await rig.simulator.scan('whole');
    expect((await next).text).toBe('whole');
  });

  it('reports a code ended with LF on a port set to CR within the gap, naming both', async () => {
    const gapMs = 100;
    const { rig, scanner } = await openOnRig({ suffix: 'CR', gapMs }, 'LF');
    const errors = collectErrors(scanner);
    const abandoned = nextError(scanner);
    const started = performance.now();

    await rig.simulator.scan('PASS-1');

    const error = await abandoned;
    expect(performance.now() - started).toBeLessThan(gapMs + 1_000);
    expect(hasCode(error, 'timeout')).toBe(true);
    expect(error.message).toContain('ended with LF, but suffix is CR');
    const next = nextScan(scanner);
    await rig.simulator.scan('PASS-2', { suffix: 'CR' });
    expect((await next).text).toBe('PASS-2');
    expect(errors()).toHaveLength(1);
  });

  it('leaves no gap timer behind when closed with a part-line pending', async () => {
    const { rig, scanner } = await openOnRig({ gapMs: 60_000 });
    const errors = collectErrors(scanner);
    const idle = resourceCounts().timers;

    await rig.simulator.scan('half-a-code', { suffix: null });
    await settle();
    expect(resourceCounts().timers).toBeGreaterThan(idle);
    await scanner.close();

    expect(resourceCounts().timers).toBeLessThanOrEqual(idle);
    expect(errors()).toEqual([]);
  });

  it('delivers a code with a flipped bit as sent, for the verifier to refuse', async () => {
    const { rig, scanner } = await openOnRig();

    const scan = nextScan(scanner);
    await rig.simulator.scan('abcdef', { corrupt: 'flip' });

    expect((await scan).text).toBe('abceef');
  });

  it('receives a code paced at 9600 baud over the time the line would take', async () => {
    const { rig, scanner } = await openOnRig();
    const text = 'p'.repeat(95);

    const started = performance.now();
    const scan = nextScan(scanner);
    await rig.simulator.scan(text, { paced: true, chunks: 12 });

    expect((await scan).text).toBe(text);
    // 96 bytes of 10 bits each at 9600 baud: 100 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('lets the simulator record what the host sends, with the time it came', async () => {
    const rig = await startSerialRig();
    onTestFinished(() => rig.teardown());
    const before = Date.now();
    const host = await openHost(rig.port);
    onTestFinished(() => closeHost(host));

    const received = new Promise((resolve) => rig.simulator.onReceived(resolve));
    host.write(Buffer.from([0x16, 0x54, 0x0d]));
    await received;

    const [record] = rig.simulator.received();
    expect(Array.from(record.bytes)).toEqual([0x16, 0x54, 0x0d]);
    expect(record.at).toBeGreaterThanOrEqual(before);
  });

  it('rejects an absent port as disconnected and connects once the scanner appears', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiosk-scanner-test-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const scanner = new SerialScanner({ port: join(dir, 'a'), reconnectIntervalMs: 50 });
    onTestFinished(() => scanner.close());

    await expect(scanner.open()).rejects.toSatisfy((error) => hasCode(error, 'disconnected'));

    const connected = nextState(scanner, 'connected');
    const pair = await startPtyPair(dir);
    onTestFinished(() => pair.close());
    await connected;
  });
});

function suffixText(suffix: ScanSuffix): string {
  return { CR: '\r', LF: '\n', CRLF: '\r\n', Tab: '\t' }[suffix];
}
