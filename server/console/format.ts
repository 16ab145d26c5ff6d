/**
 * How the console writes times and durations: short, in the guard's language, and without
 * seconds where they would only flicker.
 */

/** Whole seconds left until `deadline`, rounded up so the last second shows as 1, never below 0. */
export function secondsLeft(deadline: number, now: number): number {
  return Math.max(0, Math.ceil((deadline - now) / 1000));
}

/** A duration as m:ss, or h:mm:ss from an hour on; negative durations count as zero. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');

  if (hours === 0) return `${minutes}:${seconds}`;
  return `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`;
}

/**
 * A moment as the guard's clock shows it: the time alone when it is today, the date too when
 * not. `timeZone` is for tests; pages use the browser's.
 */
export function formatMoment(at: number, now: number, locale: string, timeZone?: string): string {
  const time = new Intl.DateTimeFormat(locale, {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone,
  });
  const day = new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    timeZone,
  });
  if (day.format(at) === day.format(now)) return time.format(at);

  const dated = new Intl.DateTimeFormat(locale, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone,
  });
  return dated.format(at);
}
