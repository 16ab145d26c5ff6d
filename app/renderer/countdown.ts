/** A visible countdown to an epoch-ms deadline set by the core (screen timeout, gate closing). */
import { useSyncExternalStore } from 'react';

/** Whole seconds left until `deadline`, rounded up so the last second shows as 1, never below 0. */
export function secondsLeft(deadline: number, now: number): number {
  return Math.max(0, Math.ceil((deadline - now) / 1000));
}

// One shared clock for every countdown on the page; it runs only while someone is watching.
// A quarter second keeps a shown number at most that late without a busy render loop.
const tickMs = 250;
const watchers = new Set<() => void>();
let currentTime = Date.now();
let ticker: ReturnType<typeof setInterval> | null = null;

function watchClock(onTick: () => void): () => void {
  watchers.add(onTick);
  if (!ticker) {
    currentTime = Date.now();
    ticker = setInterval(tick, tickMs);
  }

  return () => {
    watchers.delete(onTick);
    if (watchers.size === 0 && ticker) clearInterval(ticker);
    if (watchers.size === 0) ticker = null;
  };
}

function tick(): void {
  currentTime = Date.now();
  for (const watcher of watchers) watcher();
}

const readClock = (): number => currentTime;
const readTimeNow = (): number => Date.now();
const ignoreClock = (): (() => void) => () => undefined;

/** Seconds left until `deadline`, re-rendering as they tick; null when there is no deadline. */
export function useSecondsLeft(deadline: number | null): number | null {
  // A render outside the browser (the screens' tests render to a string) has no ticking clock.
  const now = useSyncExternalStore(
    deadline === null ? ignoreClock : watchClock,
    readClock,
    readTimeNow,
  );

  return deadline === null ? null : secondsLeft(deadline, now);
}
