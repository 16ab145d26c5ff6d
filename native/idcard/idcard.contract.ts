/**
 * The behaviour every ID card reader setup must show, run against the simulated reader and, when
 * KIOSK_TEST_IDCARD_PORT names one, a real reader. Checks that place cards, script answers or
 * pull the cable need the simulator's side of the wire, and say so when they skip.
 */
import { expect, it } from 'vitest';
import { hasCode, type KioskError } from '../../app/common/errors.js';
import {
  closedAtEnd,
  collectEvents,
  describeContract,
  itReportsConnectingThenConnected,
  needsCable,
  nextEvent,
  nextState,
  plugBack,
  pullCable,
  replugBudgetMs,
  type SkipIf,
} from '../testing/device-contract.js';
import type { IdCardRead } from './id-record.js';
import type { IdCardReader } from './idcard-reader.js';
import { isReadCommand, type ReceivedCommand, type SamSimulator } from './sam-simulator.js';
import { foreignCard, residentCard } from './testing/cards.js';

/** What a contract run needs from its setup. */
export interface IdCardContractHarness {
  /** A reader, not yet opened. */
  createReader: () => IdCardReader;
  /** How long the reader waits for a read answer, so slow answers can be made slower. */
  readTimeoutMs: number;
  /** The reader's side of the wire, where the harness can play it (the simulator). */
  device?: SamSimulator;
  /** Pulls the reader's cable, where the harness can. */
  unplug?: () => Promise<void>;
  /** Plugs it back in. */
  replug?: () => Promise<void>;
  teardown: () => Promise<void>;
}

const onSimulator = 'run against the simulator';

const isFind = (command: ReceivedCommand): boolean => command.cmd === 0x20 && command.para === 0x01;
const isRead = (command: ReceivedCommand): boolean => isReadCommand(command);

/** Registers the ID card reader contract under `name`, with a fresh harness per test. */
export function describeIdCardContract(
  name: string,
  setup: () => Promise<IdCardContractHarness>,
): void {
  describeContract(name, setup, (harness) => {
    /** A reader that is closed when the test ends, whatever happens. */
    const readerFor = (): IdCardReader => closedAtEnd(harness().createReader());

    /** An opened reader with every card and error it reports collected. */
    async function openWatched(): Promise<Watched> {
      const reader = readerFor();
      const watched = watch(reader);
      await reader.open();
      return watched;
    }

    itReportsConnectingThenConnected('opens and reports connecting, then connected', readerFor);

    it('reads a placed card once, as one typed record', async ({ skip }) => {
      const device = needsDevice(harness(), skip);
      const { cards, errors, nextCard } = await openWatched();

      device.placeCard(residentCard);

      const read = await nextCard();
      expect(read.record).toEqual({ ...residentCard, validity: 'valid' });
      expect(read.photoLength).toBe(1024);
      expect(cards).toHaveLength(1);
      expect(errors).toEqual([]);
    });

    it('does not read a card left on the reader again', async ({ skip }) => {
      const device = needsDevice(harness(), skip);
      const { cards, nextCard } = await openWatched();
      device.placeCard(residentCard);
      await nextCard();
      const from = device.commands().length;

      await device.waitForCommand(isFind, { from, count: 5 });

      expect(device.commands().slice(from).filter(isRead)).toEqual([]);
      expect(cards).toHaveLength(1);
    });

    it('reads the card again once it was lifted and placed again', async ({ skip }) => {
      const device = needsDevice(harness(), skip);
      const { cards, nextCard } = await openWatched();
      device.placeCard(residentCard);
      await nextCard();
      device.liftCard();
      await device.waitForCommand(isFind, { from: device.commands().length, count: 2 });

      device.placeCard(foreignCard);

      const second = await nextCard();
      expect(second.record.kind).toBe('foreign_permanent');
      expect(cards).toHaveLength(2);
    });

    it('reports an unknown card type as a typed error, once, and gives no record', async ({
      skip,
    }) => {
      const device = needsDevice(harness(), skip);
      const { cards, errors, nextError } = await openWatched();

      device.placeCard(foreignCard, { typeMarker: 'Y' });

      expect((await nextError()).code).toBe('unknown_card_type');
      await device.waitForCommand(isFind, { from: device.commands().length, count: 5 });
      expect(cards).toEqual([]);
      expect(errors.map((error) => error.code)).toEqual(['unknown_card_type']);
    });

    it('reports a corrupt answer and reads the card on the next poll', async ({ skip }) => {
      const device = needsDevice(harness(), skip);
      const { cards, nextCard, nextError } = await openWatched();
      device.corruptNext(1, isReadCommand);

      device.placeCard(residentCard);

      expect((await nextError()).code).toBe('checksum');
      expect((await nextCard()).record.idNumber).toBe(residentCard.idNumber);
      expect(cards).toHaveLength(1);
    });

    it('reports a slow answer as a timeout, then reads the card once', async ({ skip }) => {
      const device = needsDevice(harness(), skip);
      const { cards, nextCard, nextError } = await openWatched();
      const lateByMs = harness().readTimeoutMs + 300;
      device.delayNext(lateByMs, 1, isReadCommand);

      device.placeCard(residentCard);

      expect((await nextError()).code).toBe('timeout');
      await nextCard();
      // The late answer arrives while later polls run: it must not pass for one of theirs.
      const sent = device.commands().filter(isRead)[0].at;
      await device.waitForCommand((command) => isFind(command) && command.at > sent + lateByMs, {
        timeoutMs: lateByMs + 2_000,
      });
      expect(cards).toHaveLength(1);
    });

    it('reports an unplug mid-read as disconnected within 2 s, and reads again after a replug', async ({
      skip,
    }) => {
      const device = needsDevice(harness(), skip);
      const { unplug, replug } = needsCable(harness(), skip, onSimulator);
      const { reader, errors, nextCard } = await openWatched();
      device.setSilent(true, isReadCommand);
      device.placeCard(residentCard);
      await device.waitForCommand(isRead);
      const pulled = Date.now();

      const { error } = await pullCable(reader, unplug);

      expect(Date.now() - pulled).toBeLessThan(replugBudgetMs);
      expect(hasCode(error, 'disconnected')).toBe(true);
      expect(errors).toEqual([]);
      device.setSilent(false);
      await plugBack(reader, replug, replugBudgetMs);
      expect((await nextCard()).record.idNumber).toBe(residentCard.idNumber);
    });

    it('closes cleanly while a read is pending', async ({ skip }) => {
      const device = needsDevice(harness(), skip);
      const { reader, errors } = await openWatched();
      device.setSilent(true, isReadCommand);
      device.placeCard(residentCard);
      await device.waitForCommand(isRead);

      await reader.close();

      expect(reader.state).toBe('disconnected');
      expect(errors).toEqual([]);
    });

    it('keeps polling without errors while no card is placed', async () => {
      const { reader, cards, errors } = await openWatched();

      await expect(nextState(reader, 'disconnected', 1_000)).rejects.toThrow(/did not become/);

      expect(reader.state).toBe('connected');
      expect(cards).toEqual([]);
      expect(errors).toEqual([]);
    });
  });
}

interface Watched {
  reader: IdCardReader;
  cards: IdCardRead[];
  errors: KioskError[];
  nextCard: (timeoutMs?: number) => Promise<IdCardRead>;
  nextError: (timeoutMs?: number) => Promise<KioskError>;
}

/** Collects what `reader` reports until the test ends, and waits for the next of each. */
function watch(reader: IdCardReader): Watched {
  const cards = collectEvents<IdCardRead>((listener) => reader.onCard(listener));
  const errors = collectEvents<KioskError>((listener) => reader.onError(listener));
  return {
    reader,
    cards,
    errors,
    nextCard: (timeoutMs = 2_000) =>
      nextEvent((listener) => reader.onCard(listener), timeoutMs, 'card'),
    nextError: (timeoutMs = 2_000) =>
      nextEvent((listener) => reader.onError(listener), timeoutMs, 'error'),
  };
}

function needsDevice(harness: IdCardContractHarness, skip: SkipIf): SamSimulator {
  skip(!harness.device, `needs to place cards and script answers: ${onSimulator}`);
  return harness.device!;
}
