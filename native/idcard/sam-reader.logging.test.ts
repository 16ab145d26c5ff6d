/**
 * What the reader writes to the log while cards come and go, read back from the log stream
 * itself: ID numbers and names must never appear there unmasked.
 */
import { expect, it, onTestFinished, vi } from 'vitest';

// The logger picks its level when first loaded: before any import below loads it.
vi.hoisted(() => {
  process.env.KIOSK_LOG_LEVEL = 'debug';
});

const { residencePermit, residentCard } = await import('./testing/cards.js');
const { simulatedHarness } = await import('./testing/harness.js');
const { captureStderrLog } = await import('../../test/support/stderr-log.js');
const { plugBack, pullCable } = await import('../testing/device-contract.js');

it('logs reads, errors and reconnects without an unmasked ID number or name', async () => {
  const lines = captureStderrLog();
  const harness = await simulatedHarness();
  onTestFinished(() => harness.teardown());
  const reader = harness.createReader();
  onTestFinished(() => reader.close());
  const cards: unknown[] = [];
  reader.onCard((read) => cards.push(read));
  await reader.open();

  harness.device.corruptNext(1, (command) => command.cmd === 0x30);
  harness.device.placeCard(residentCard);
  await vi.waitFor(() => expect(cards).toHaveLength(1));
  harness.device.liftCard();
  const isFind = (command: { cmd: number; para: number }): boolean =>
    command.cmd === 0x20 && command.para === 0x01;
  await harness.device.waitForCommand(isFind, { from: harness.device.commands().length, count: 2 });
  await pullCable(reader, harness.unplug!);
  await plugBack(reader, harness.replug!);
  harness.device.placeCard(residencePermit);
  await vi.waitFor(() => expect(cards).toHaveLength(2));

  const log = lines().join('\n');
  expect(log).toContain('read: card read');
  expect(log).toContain('poll: failed');
  expect(log).toContain('"state":"disconnected"');
  for (const secret of [
    residentCard.idNumber,
    residentCard.name,
    residencePermit.idNumber,
    residencePermit.name,
    residencePermit.passNumber,
  ]) {
    expect(log).not.toContain(secret);
  }
});
