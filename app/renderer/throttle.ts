/**
 * Lets an action through at most once per interval. Every touch tells the core the visitor is
 * still there, but a finger dragging across the screen must not flood the bridge.
 */
export function createThrottle(intervalMs: number, now: () => number = Date.now): () => boolean {
  let last = -Infinity;

  return () => {
    const current = now();
    if (current - last < intervalMs) return false;

    last = current;
    return true;
  };
}
