/**
 * What every device contract suite (relay, call button) does the same way: skip a check the
 * harness cannot perform and say why, watch a driver's state changes, wait for one of them, and
 * catch the listener leaks Node only reports as process warnings.
 */
import { afterEach, beforeEach, describe, onTestFinished } from 'vitest';
import type { DeviceState } from '../../app/core/ports.js';

/** The part of a driver the suites watch: its state and the changes to it. */
export interface WatchedDevice {
  readonly state: DeviceState;
  onStateChange(listener: (state: DeviceState, error?: Error) => void): () => void;
}

/** A harness hook that pulls or replugs a device's cable, sync or async. */
type CableHook<Result> = () => Result;

/** The cable hooks of a harness, present only where it can pull the cable. */
export interface CableHarness<Result> {
  unplug?: CableHook<Result>;
  replug?: CableHook<Result>;
}

/** Vitest's per-test `skip(condition, note)`. */
export type SkipIf = (condition: boolean, note?: string) => void;

/**
 * Skips the test unless the harness can pull the cable, naming `where` such a harness is found;
 * returns both hooks.
 */
export function needsCable<Result>(
  harness: CableHarness<Result>,
  skip: SkipIf,
  where: string,
): { unplug: CableHook<Result>; replug: CableHook<Result> } {
  skip(!harness.unplug || !harness.replug, `needs a harness that can pull the cable: ${where}`);
  return { unplug: () => harness.unplug!(), replug: () => harness.replug!() };
}

/** Every state the device enters from now until the test ends. */
export function recordStates(device: WatchedDevice): DeviceState[] {
  const states: DeviceState[] = [];
  onTestFinished(device.onStateChange((state) => states.push(state)));
  return states;
}

/** Resolves with the next change to `wanted`; subscribe before causing it. */
export function nextState(
  device: WatchedDevice,
  wanted: DeviceState,
  timeoutMs = 2_000,
): Promise<{ state: DeviceState; error?: Error }> {
  const reached = new Promise<{ state: DeviceState; error?: Error }>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(
        new Error(`device did not become ${wanted} within ${timeoutMs} ms (is ${device.state})`),
      );
    }, timeoutMs);
    const unsubscribe = device.onStateChange((state, error) => {
      if (state !== wanted) return;

      clearTimeout(timer);
      unsubscribe();
      resolve({ state, error });
    });
  });
  // A test that fails before awaiting this must not also leave an unhandled rejection behind.
  reached.catch(() => undefined);
  return reached;
}

/** Collects process warnings (MaxListenersExceededWarning is how Node reports a listener leak). */
export function collectWarnings(): () => string[] {
  const seen: string[] = [];
  const listener = (warning: Error): void => {
    seen.push(`${warning.name}: ${warning.message}`);
  };
  process.on('warning', listener);
  onTestFinished(() => {
    process.off('warning', listener);
  });
  return () => [...seen];
}

/** Pulls the cable and resolves once the driver reports the loss, with the error it gave. */
export async function pullCable(
  device: WatchedDevice,
  unplug: () => unknown,
): Promise<{ state: DeviceState; error?: Error }> {
  const lost = nextState(device, 'disconnected');
  await unplug();
  return lost;
}

/** Plugs the cable back in and resolves once the driver is connected again, within `budgetMs`. */
export async function plugBack(
  device: WatchedDevice,
  replug: () => unknown,
  budgetMs = 2_000,
): Promise<void> {
  const back = nextState(device, 'connected', budgetMs);
  await replug();
  await back;
}

/** A contract harness: whatever it sets up, it can tear down. */
export interface Teardown {
  teardown(): Promise<void>;
}

/**
 * Registers a contract suite under `name`: `tests` registers the checks, each of which reads the
 * fresh harness that `setup` builds before it (and tears down after it) through `harness()`.
 */
export function describeContract<Harness extends Teardown>(
  name: string,
  setup: () => Promise<Harness>,
  tests: (harness: () => Harness) => void,
): void {
  describe(name, () => {
    let current: Harness | undefined;

    beforeEach(async () => {
      current = await setup();
    });

    afterEach(async () => {
      await current?.teardown();
      current = undefined;
    });

    tests(() => {
      if (!current) throw new Error('the harness exists only while a test runs');
      return current;
    });
  });
}
