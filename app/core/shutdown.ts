/**
 * Orderly shutdown for the kiosk's long-running processes (browser host, intercom server): on the
 * first SIGINT or SIGTERM the steps run once, in order, and the process exits.
 */
import type { Logger } from './log.js';

/** How long the steps may take before the process exits anyway. */
const shutdownLimitMs = 10_000;

/** Runs `steps` in order on the first SIGINT or SIGTERM, then exits 0 (1 if a step failed). */
export function closeOnSignals(log: Logger, steps: ReadonlyArray<() => unknown>): void {
  let closing = false;

  const shutdown = async (signal: NodeJS.Signals) => {
    if (closing) return;

    closing = true;
    log.info({ signal }, 'close: shutting down');
    // A device or connection that never answers must not keep the process alive once told to stop.
    setTimeout(() => process.exit(1), shutdownLimitMs).unref();
    for (const step of steps) await step();
    process.exit(0);
  };

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, (received) => {
      shutdown(received).catch((error: unknown) => {
        log.error({ err: error }, 'close: shutdown failed');
        process.exit(1);
      });
    });
  }
}
