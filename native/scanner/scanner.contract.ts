/**
 * The behaviour every scanner setup must show, run against each kind's simulator or fake and,
 * when an environment variable names one, a real scanner. Checks that present a code or pull the
 * cable run only where the harness can do so, and say why they skip elsewhere.
 */
import { expect, it } from 'vitest';
import { hasCode } from '../../app/common/errors.js';
import {
  closedAtEnd,
  collectEvents,
  describeContract,
  expectOpenToWaitForCable,
  itReportsConnectingThenConnected,
  needsCable,
  nextEvent,
  plugBack,
  pullCable,
  replugBudgetMs,
  type SkipIf,
  type Teardown,
} from '../testing/device-contract.js';
import type { ScannerScan, ScannerSource } from '../../app/common/scanner-scan.js';
import type { Scanner } from './scanner.js';

/** A scanner the contract can also count listeners on. */
export type CountedScanner = Scanner & { listenerCounts(): Record<string, number> };

/** What a contract run needs from its setup. */
export interface ScannerContractHarness extends Teardown {
  /** The source the scans must carry. */
  source: ScannerSource;
  /** A driver for the scanner, not yet opened. */
  createScanner(): CountedScanner;
  /** Makes the scanner send one code, in several reports or chunks when `split`. */
  present?(payload: Uint8Array, options: { split: boolean }): Promise<void>;
  /** Pulls the scanner's cable, where the harness can. */
  unplug?(): unknown;
  replug?(): unknown;
  /** Resolves once what was sent so far has reached the driver. */
  settle(): Promise<void>;
}

const onSimulator = 'run against the simulator or fake';

/** `访客通行证：王小明 3号楼` in GBK, as Chinese QR encoders write it without an ECI. */
export const gbkPass = {
  text: '访客通行证：王小明 3号楼',
  hex: 'b7c3bfcdcda8d0d0d6a4a3bacdf5d0a1c3f72033bac5c2a5',
};

/** Registers the scanner contract suite under `name`, with a fresh harness per test. */
export function describeScannerContract(
  name: string,
  setup: () => Promise<ScannerContractHarness>,
): void {
  describeContract(name, setup, (harness) => {
    /** A scanner that is closed when the test ends, whatever happens. */
    const scannerFor = (): CountedScanner => closedAtEnd(harness().createScanner());

    itReportsConnectingThenConnected(
      'opens the device and reports connecting, then connected',
      scannerFor,
    );

    it('delivers one code as one scan with its exact text and bytes', async ({ skip }) => {
      const present = needsCode(harness(), skip);
      const scanner = scannerFor();
      await scanner.open();
      const scans = collectScans(scanner);
      const payload = new TextEncoder().encode('PASS:v1:gate-3:2b7e1516');

      const scan = nextScan(scanner);
      await present(payload, { split: false });
      const got = await scan;
      await harness().settle();

      expect(got).toMatchObject({
        text: 'PASS:v1:gate-3:2b7e1516',
        bytesHex: toHex(payload),
        charset: 'UTF-8',
        source: harness().source,
      });
      expect(Array.from(got.bytes)).toEqual(Array.from(payload));
      expect(scans()).toHaveLength(1);
    });

    it('reads a GBK payload as Chinese, keeping its bytes', async ({ skip }) => {
      const present = needsCode(harness(), skip);
      const scanner = scannerFor();
      await scanner.open();

      const scan = nextScan(scanner);
      await present(fromHex(gbkPass.hex), { split: false });

      expect(await scan).toMatchObject({
        text: gbkPass.text,
        bytesHex: gbkPass.hex,
        charset: 'GB18030',
      });
    });

    it('joins a long code sent in several pieces into one scan', async ({ skip }) => {
      const present = needsCode(harness(), skip);
      const scanner = scannerFor();
      await scanner.open();
      const scans = collectScans(scanner);
      const text = Array.from({ length: 30 }, (_, index) => `seg${index}-`).join('');
      const payload = new TextEncoder().encode(text);

      const scan = nextScan(scanner);
      await present(payload, { split: true });
      await harness().settle();

      expect((await scan).text).toBe(text);
      expect(scans()).toHaveLength(1);
    });

    it('reports an unplug as disconnected with a coded error within 2 s', async ({ skip }) => {
      const { unplug } = needsCable(harness(), skip, onSimulator);
      const scanner = scannerFor();
      await scanner.open();

      const started = Date.now();
      const { error } = await pullCable(scanner, unplug);

      expect(Date.now() - started).toBeLessThan(replugBudgetMs);
      expect(hasCode(error, 'disconnected')).toBe(true);
    });

    it('reconnects after a replug within 2 s and scans again', async ({ skip }) => {
      const { unplug, replug } = needsCable(harness(), skip, onSimulator);
      const present = needsCode(harness(), skip);
      const scanner = scannerFor();
      await scanner.open();
      await pullCable(scanner, unplug);

      const replugged = Date.now();
      await plugBack(scanner, replug, replugBudgetMs);
      expect(Date.now() - replugged).toBeLessThan(replugBudgetMs);

      const scan = nextScan(scanner);
      await present(new TextEncoder().encode('after-replug'), { split: false });
      expect((await scan).text).toBe('after-replug');
    });

    it('rejects open as disconnected while absent and connects once plugged in', async ({
      skip,
    }) => {
      await expectOpenToWaitForCable(scannerFor, needsCable(harness(), skip, onSimulator));
    });

    it('closes while a read is pending without crashing, and reports nothing after', async () => {
      const scanner = scannerFor();
      await scanner.open();
      const scans = collectScans(scanner);

      await Promise.all([scanner.close(), scanner.close()]);
      await harness()
        .present?.(new TextEncoder().encode('after-close'), { split: false })
        .catch(() => undefined);
      await harness().settle();

      expect(scanner.state).toBe('disconnected');
      expect(scans()).toEqual([]);
      expect(scanner.listenerCounts()).toMatchObject({ scan: 1 });
    });
  });
}

function needsCode(
  harness: ScannerContractHarness,
  skip: SkipIf,
): NonNullable<ScannerContractHarness['present']> {
  skip(!harness.present, `needs a harness that can present a code: ${onSimulator}`);
  return (payload, options) => harness.present!(payload, options);
}

/** Every scan from now until the test ends. */
export function collectScans(scanner: Scanner): () => ScannerScan[] {
  const scans = collectEvents<ScannerScan>((listener) => scanner.onScan(listener));
  return () => [...scans];
}

/** Resolves with the next scan; subscribe before causing it. */
export function nextScan(scanner: Scanner, timeoutMs = 2_000): Promise<ScannerScan> {
  return nextEvent((listener) => scanner.onScan(listener), timeoutMs, 'scan');
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Bytes from lowercase hex. */
export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
