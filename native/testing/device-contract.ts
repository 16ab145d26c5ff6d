/**
 * What every device contract suite (relay, scanner, ID card reader, call button) does the same
 * way: skip a check the harness cannot perform and say why, watch a driver's state changes and
 * events, wait for one of them, pull and replug the cable, and catch the listener leaks Node only
 * reports as process warnings.
 */
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { hasCode } from '../../app/common/errors.js';
import type { DeviceState } from '../../app/core/ports.js';

/** How long a driver may take to report connected after a replug. */
export const replugBudgetMs = 2_000;

/** The part of a driver the suites watch: its state and the changes to it. */
export interface WatchedDevice {
  readonly state: DeviceState;
  onStateChange(listener: (state: DeviceState, error?: Error) => void): () => void;
}

/** A driver the suites open and close. */
export interface OpenableDevice extends WatchedDevice {
  open(): Promise<void>;
  close(): Promise<void>;
}

/** A subscription as drivers offer them: takes a listener, returns the unsubscribe. */
export type Subscribe<Value> = (listener: (value: Value) => void) => () => void;

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

/** `device`, closed when the test ends, whatever happens. */
export function closedAtEnd<Device extends { close(): Promise<void> }>(device: Device): Device {
  onTestFinished(() => device.close());
  return device;
}

/** Every value `subscribe` delivers from now until the test ends, in a list that grows. */
export function collectEvents<Value>(subscribe: Subscribe<Value>): Value[] {
  const values: Value[] = [];
  onTestFinished(subscribe((value) => values.push(value)));
  return values;
}

/** Resolves with the next value `subscribe` delivers; rejects after `timeoutMs`, naming `what`. */
export function nextEvent<Value>(
  subscribe: Subscribe<Value>,
  timeoutMs: number,
  what: string,
): Promise<Value> {
  const next = new Promise<Value>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = subscribe((value) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
  });
  // A test that fails before awaiting this must not also leave an unhandled rejection behind.
  next.catch(() => undefined);
  return next;
}

/** Every state the device enters from now until the test ends. */
export function recordStates(device: WatchedDevice): DeviceState[] {
  return collectEvents((listener) => device.onStateChange((state) => listener(state)));
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

/** Pulls the cable and plugs it back in `cycles` times, each time waiting for the driver. */
export async function cycleCable(
  device: WatchedDevice,
  cable: { unplug: () => unknown; replug: () => unknown },
  cycles: number,
): Promise<void> {
  for (let cycle = 0; cycle < cycles; cycle += 1) {
    await pullCable(device, cable.unplug);
    await plugBack(device, cable.replug, replugBudgetMs);
  }
}

/** Registers the first check of every suite: opening reports connecting, then connected. */
export function itReportsConnectingThenConnected(
  title: string,
  create: () => OpenableDevice,
): void {
  it(title, async () => {
    const device = create();
    const states = recordStates(device);

    await device.open();

    expect(states).toEqual(['connecting', 'connected']);
    expect(device.state).toBe('connected');
  });
}

/**
 * Checks that a driver opened while its cable is out rejects as disconnected, says so, and
 * connects by itself once the cable is back.
 */
export async function expectOpenToWaitForCable(
  create: () => OpenableDevice,
  cable: { unplug: () => unknown; replug: () => unknown },
): Promise<void> {
  await cable.unplug();
  const device = create();

  await expect(device.open()).rejects.toSatisfy((error) => hasCode(error, 'disconnected'));
  expect(device.state).toBe('disconnected');

  await plugBack(device, cable.replug, replugBudgetMs);
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
