/**
 * How long the console waits before reconnecting. Delays grow exponentially to a ceiling, and
 * each is drawn from the upper half of its range, so consoles that lost the server together (a
 * restart) do not all knock at the same instant, yet none waits much less than planned.
 */

/** Bounds of the reconnect delay. */
export interface BackoffOptions {
  firstMs: number;
  maxMs: number;
}

/** Quick enough that a restarted server has its guards back within seconds. */
export const defaultBackoff: BackoffOptions = { firstMs: 500, maxMs: 10_000 };

/** The delay before reconnect attempt `attempt` (0 for the first retry); `random` is in [0, 1). */
export function reconnectDelay(
  attempt: number,
  random: () => number = Math.random,
  options: BackoffOptions = defaultBackoff,
): number {
  const exponent = Math.min(Math.max(0, attempt), 30);
  const ceiling = Math.min(options.maxMs, options.firstMs * 2 ** exponent);

  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
