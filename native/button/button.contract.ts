/**
 * The behaviour every call button setup must show, run against the fake HID device and, when
 * KIOSK_TEST_BUTTON_HID names one, a real button. Checks that press the button or pull its cable
 * run only where the harness can do so, and say why they skip elsewhere.
 */
import { expect, it } from 'vitest';
import { hasCode } from '../../app/common/errors.js';
import {
  closedAtEnd,
  collectEvents,
  collectWarnings,
  cycleCable,
  describeContract,
  expectOpenToWaitForCable,
  itReportsConnectingThenConnected,
  needsCable,
  nextEvent,
  plugBack,
  pullCable,
  replugBudgetMs,
  type SkipIf,
} from '../testing/device-contract.js';
import type { HidCallButton } from './hid-button.js';

/** What a contract run needs from its setup. */
export interface CallButtonContractHarness {
  /** A driver for the button, not yet opened. */
  createButton(options: { debounceMs: number }): HidCallButton;
  /** Holds the button down (sends a pressed report), where the harness can. */
  press?(): void;
  /** Lets it go. */
  release?(): void;
  /** Pulls the button's cable, where the harness can. */
  unplug?(): void;
  replug?(): void;
  /** Resolves once reports already sent have reached the driver. */
  settle(): Promise<void>;
  /** Device handles open now, where the harness can count them. */
  openHandles?(): number;
  teardown(): Promise<void>;
}

const debounceMs = 100;
const onFakeDevice = 'run against the fake device';

/** Registers the call button contract suite under `name`, with a fresh harness per test. */
export function describeCallButtonContract(
  name: string,
  setup: () => Promise<CallButtonContractHarness>,
): void {
  describeContract(name, setup, (harness) => {
    /** A button that is closed when the test ends, whatever happens. */
    function buttonFor(debounce = debounceMs): HidCallButton {
      return closedAtEnd(harness().createButton({ debounceMs: debounce }));
    }

    itReportsConnectingThenConnected(
      'opens the device and reports connecting, then connected',
      () => buttonFor(),
    );

    it('reports a held button as one press, and the next press after release as another', async ({
      skip,
    }) => {
      const { press, release } = needsHand(harness(), skip);
      const button = buttonFor(0);
      await button.open();
      const presses = countPresses(button);

      let next = nextPress(button);
      press();
      await next;
      press();
      press();
      release();
      next = nextPress(button);
      press();
      await next;
      release();
      await harness().settle();

      expect(presses()).toBe(2);
    });

    it('counts presses closer together than the debounce time once', async ({ skip }) => {
      const { press, release } = needsHand(harness(), skip);
      const button = buttonFor(debounceMs);
      await button.open();
      const presses = countPresses(button);

      const first = nextPress(button);
      press();
      await first;
      release();
      press();
      release();
      await harness().settle();
      expect(presses()).toBe(1);

      await new Promise((resolve) => setTimeout(resolve, debounceMs));
      const later = nextPress(button);
      press();
      await later;
      expect(presses()).toBe(2);
    });

    it('reports an unplug as disconnected with a coded error and comes back within 2 s', async ({
      skip,
    }) => {
      const { unplug, replug } = needsCable(harness(), skip, onFakeDevice);
      const button = buttonFor();
      await button.open();

      const { error } = await pullCable(button, unplug);

      expect(hasCode(error, 'disconnected')).toBe(true);
      const replugged = Date.now();
      await plugBack(button, replug, replugBudgetMs);
      expect(Date.now() - replugged).toBeLessThan(replugBudgetMs);
    });

    it('reports presses again after a replug, and none that was held through the unplug', async ({
      skip,
    }) => {
      const { unplug, replug } = needsCable(harness(), skip, onFakeDevice);
      const { press, release } = needsHand(harness(), skip);
      const button = buttonFor(0);
      await button.open();
      const presses = countPresses(button);
      const first = nextPress(button);
      press();
      await first;

      await pullCable(button, unplug);
      await plugBack(button, replug, replugBudgetMs);
      release();
      const again = nextPress(button);
      press();
      await again;

      expect(presses()).toBe(2);
    });

    it('rejects open as disconnected while the device is absent and connects once it appears', async ({
      skip,
    }) => {
      await expectOpenToWaitForCable(() => buttonFor(), needsCable(harness(), skip, onFakeDevice));
    });

    it('closes while a read is pending without crashing, and reports nothing after', async () => {
      const button = buttonFor();
      await button.open();
      const presses = countPresses(button);

      await button.close();
      await button.close();
      harness().press?.();
      await harness().settle();

      expect(button.state).toBe('disconnected');
      expect(presses()).toBe(0);
    });

    it('goes through 20 unplug and replug cycles without piling up listeners', async ({ skip }) => {
      const cable = needsCable(harness(), skip, onFakeDevice);
      const button = buttonFor();
      await button.open();
      const warnings = collectWarnings();
      const before = button.listenerCounts();

      await cycleCable(button, cable, 20);

      expect(button.listenerCounts()).toEqual(before);
      expect(harness().openHandles?.() ?? 1).toBe(1);
      expect(warnings()).toEqual([]);
    }, 60_000);
  });
}

function needsHand(
  harness: CallButtonContractHarness,
  skip: SkipIf,
): { press: () => void; release: () => void } {
  skip(
    !harness.press || !harness.release,
    `needs a harness that can press the button: ${onFakeDevice}`,
  );
  return { press: () => harness.press!(), release: () => harness.release!() };
}

function countPresses(button: HidCallButton): () => number {
  const presses = collectEvents<void>((listener) => button.onPress(() => listener()));
  return () => presses.length;
}

/** Resolves on the next press; subscribe before causing it. */
function nextPress(button: HidCallButton, timeoutMs = 2_000): Promise<void> {
  return nextEvent<void>((listener) => button.onPress(() => listener()), timeoutMs, 'press');
}
