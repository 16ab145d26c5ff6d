/**
 * A hundred unplugs while cards are being read: each one seen and recovered from within 2 s, and
 * nothing (listeners, handles) left behind by any of them.
 */
import { expect, it, onTestFinished } from 'vitest';
import { hasCode } from '../../app/common/errors.js';
import { collectWarnings, plugBack, pullCable } from '../testing/device-contract.js';
import { isReadCommand } from './sam-simulator.js';
import { simulatedHarness } from './testing/harness.js';
import type { SamIdCardReader } from './sam-reader.js';
import type { IdCardRead } from './id-record.js';
import { residentCard } from './testing/cards.js';

const cycles = 100;
const budgetMs = 2_000;

/** Open handles by type, as Node counts them. */
function handles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo())
    counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** The handle types that outnumber `before`; stat calls and timers come and go, so this waits. */
async function grownHandles(before: Map<string, number>): Promise<string[]> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    const grown = [...handles()].filter(([type, count]) => count > (before.get(type) ?? 0));
    if (grown.length === 0 || Date.now() > deadline)
      return grown.map(([type, n]) => `${type}: ${n}`);

    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function nextCard(reader: SamIdCardReader): Promise<IdCardRead> {
  return new Promise((resolve) => {
    const unsubscribe = reader.onCard((read) => {
      unsubscribe();
      resolve(read);
    });
  });
}

it(`detects and recovers from ${cycles} unplugs during card reads, leaving nothing behind`, async () => {
  const harness = await simulatedHarness();
  onTestFinished(() => harness.teardown());
  const device = harness.device;
  const reader = harness.createReader() as SamIdCardReader;
  onTestFinished(() => reader.close());
  const warnings = collectWarnings();
  const firstCard = nextCard(reader);
  await reader.open();
  device.placeCard(residentCard);
  await firstCard;
  const readerBefore = reader.listenerCounts();
  const deviceBefore = device.listenerCounts();
  const handlesBefore = handles();
  const slowest = { lost: 0, back: 0 };

  for (let cycle = 0; cycle < cycles; cycle += 1) {
    const pulled = Date.now();
    const { error } = await pullCable(reader, harness.unplug!);
    slowest.lost = Math.max(slowest.lost, Date.now() - pulled);
    expect(hasCode(error, 'disconnected'), `cycle ${cycle}`).toBe(true);

    // Every reconnect reads the card again: alternate cycles pull the cable mid-read.
    const from = device.commands().length;
    const read =
      cycle % 2 === 0 ? nextCard(reader) : device.waitForCommand(isReadCommand, { from });
    const replugged = Date.now();
    await plugBack(reader, harness.replug!, budgetMs);
    slowest.back = Math.max(slowest.back, Date.now() - replugged);
    await read;
  }

  expect(slowest.lost).toBeLessThan(budgetMs);
  expect(slowest.back).toBeLessThan(budgetMs);
  expect((await nextCard(reader)).record.idNumber).toBe(residentCard.idNumber);
  expect(reader.listenerCounts()).toEqual(readerBefore);
  expect(device.listenerCounts()).toEqual(deviceBefore);
  expect(await grownHandles(handlesBefore)).toEqual([]);
  expect(warnings()).toEqual([]);
}, 60_000);
