import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { hasCode } from '../../app/common/errors.js';
import { nextState } from '../testing/device-contract.js';
import { startPtyPair } from '../testing/pty-pair.js';
import { describeIdCardContract } from './idcard.contract.js';
import { SamIdCardReader } from './sam-reader.js';
import { SamSimulator } from './sam-simulator.js';
import { residentCard } from './testing/cards.js';
import { fast, simulatedHarness } from './testing/harness.js';

describeIdCardContract('SamIdCardReader on the simulated reader', () => simulatedHarness());

describeIdCardContract('SamIdCardReader on a reader that refuses a second find', () =>
  simulatedHarness({ refuseRepeatedFind: true }),
);

const realPort = process.env.KIOSK_TEST_IDCARD_PORT;

describe.skipIf(!realPort)(
  'real ID card reader (set KIOSK_TEST_IDCARD_PORT=/dev/ttyUSB0 to run)',
  () => {
    describeIdCardContract(`SamIdCardReader on ${realPort ?? 'no port'}`, () =>
      Promise.resolve({
        readTimeoutMs: 3_000,
        createReader: () =>
          new SamIdCardReader({
            port: realPort!,
            baudRate: Number(process.env.KIOSK_TEST_IDCARD_BAUD ?? 115_200),
          }),
        teardown: () => Promise.resolve(),
      }),
    );
  },
);

describe('SamIdCardReader beyond the contract', () => {
  it('rejects an absent port as disconnected and connects by itself once it appears', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiosk-idcard-test-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const device = new SamSimulator(join(dir, 'b'));
    const listening = device.open();
    onTestFinished(() => device.close());
    const reader = new SamIdCardReader({ port: join(dir, 'a'), ...fast });
    onTestFinished(() => reader.close());

    await expect(reader.open()).rejects.toSatisfy((error) => hasCode(error, 'disconnected'));
    const connected = nextState(reader, 'connected');
    const pair = await startPtyPair(dir, { deviceFirst: true });
    onTestFinished(() => pair.close());
    await listening;

    await connected;
  });

  it('reads with 30 10 and counts the fingerprint when asked to', async () => {
    const harness = await simulatedHarness({}, { withFingerprint: true });
    onTestFinished(() => harness.teardown());
    const reader = harness.createReader();
    onTestFinished(() => reader.close());
    await reader.open();
    const card = new Promise((resolve) => reader.onCard(resolve));

    harness.device.placeCard(residentCard, { fingerprintLength: 1024 });

    expect(await card).toMatchObject({ fingerprintLength: 1024, photoLength: 1024 });
    expect(harness.device.commands().some((command) => command.para === 0x10)).toBe(true);
  });

  it('sees a port where no SAM answers as error, not connected', async () => {
    const harness = await simulatedHarness();
    onTestFinished(() => harness.teardown());
    harness.device.setSilent(true);
    const reader = harness.createReader();
    onTestFinished(() => reader.close());

    await expect(reader.open()).rejects.toSatisfy((error) => hasCode(error, 'timeout'));

    expect(reader.state).toBe('error');
  });

  it('ignores line noise between answers', async () => {
    const harness = await simulatedHarness();
    onTestFinished(() => harness.teardown());
    const reader = harness.createReader();
    onTestFinished(() => reader.close());
    const errors: unknown[] = [];
    reader.onError((error) => errors.push(error));
    await reader.open();
    const card = new Promise((resolve) => reader.onCard(resolve));

    harness.device.sendRaw(Uint8Array.of(0x00, 0x13, 0xaa, 0x55));
    harness.device.placeCard(residentCard);

    await card;
    expect(errors).toEqual([]);
  });

  it('refuses timings that are not positive', () => {
    expect(() => new SamIdCardReader({ port: '/dev/null', pollIntervalMs: 0 })).toThrow(
      expect.objectContaining({ code: 'config_invalid' }),
    );
  });
});
