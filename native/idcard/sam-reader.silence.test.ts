/**
 * A reader that stops answering while its port stays present: it must show as `error` with a
 * hint at the cause, say so once in the log rather than once per poll, keep probing quietly and
 * come back by itself when it answers again.
 */
import { expect, it, onTestFinished, vi } from 'vitest';

// The logger picks its level when first loaded: before any import below loads it.
vi.hoisted(() => {
  process.env.KIOSK_LOG_LEVEL = 'debug';
});

const { hasCode } = await import('../../app/common/errors.js');
const { residentCard } = await import('./testing/cards.js');
const { fast, simulatedHarness } = await import('./testing/harness.js');
const { nextState } = await import('../testing/device-contract.js');
const { captureStderrLog } = await import('../../test/support/stderr-log.js');

// Three unanswered finds at the harness's response timeout, with room for two busy cores.
const silenceBudgetMs = 3 * fast.responseTimeoutMs + 2_000;
const isStatusQuery = (command: { cmd: number; para: number }): boolean =>
  command.cmd === 0x11 && command.para === 0xff;

it('turns a silent reader into error with a hint, logged once, and recovers when it answers', async () => {
  const harness = await simulatedHarness();
  onTestFinished(() => harness.teardown());
  const reader = harness.createReader();
  onTestFinished(() => reader.close());
  const errors: unknown[] = [];
  reader.onError((error) => errors.push(error));
  await reader.open();
  const log = captureStderrLog();
  const faulted = nextState(reader, 'error', silenceBudgetMs);

  harness.device.setSilent(true);

  const { error } = await faulted;
  expect(hasCode(error, 'timeout')).toBe(true);
  expect(error?.message).toMatch(/is the reader powered, and is its baud rate \d+ right\?/);
  // While in error it keeps asking for the SAM status, without a word per probe.
  const from = harness.device.commands().length;
  await harness.device.waitForCommand(isStatusQuery, { from, count: 4, timeoutMs: 5_000 });
  expect(reader.state).toBe('error');
  const warnings = log().filter((line) => line.includes('"level":40'));
  expect(warnings.length).toBeGreaterThan(0);
  expect(warnings.length).toBeLessThanOrEqual(2);
  expect(errors).toEqual([]);

  const back = nextState(reader, 'connected', silenceBudgetMs);
  harness.device.setSilent(false);
  await back;
  const card = new Promise<{ record: { idNumber: string } }>((resolve) => reader.onCard(resolve));
  harness.device.placeCard(residentCard);
  expect((await card).record.idNumber).toBe(residentCard.idNumber);
}, 20_000);

it('keeps a reader silent from the start in error, probing without a warning per probe', async () => {
  const harness = await simulatedHarness();
  onTestFinished(() => harness.teardown());
  harness.device.setSilent(true);
  const reader = harness.createReader();
  onTestFinished(() => reader.close());
  const log = captureStderrLog();

  await expect(reader.open()).rejects.toSatisfy((error) => hasCode(error, 'timeout'));
  await harness.device.waitForCommand(isStatusQuery, { count: 4, timeoutMs: 5_000 });

  expect(reader.state).toBe('error');
  const warnings = log().filter((line) => line.includes('"level":40'));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/baud rate \d+ right/);
  const back = nextState(reader, 'connected', silenceBudgetMs);
  harness.device.setSilent(false);
  await back;
}, 20_000);
