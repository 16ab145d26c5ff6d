/**
 * What every device driver does alike around its connection: hold the state, tell subscribers of
 * each change, and keep looking for a device that is gone. The drivers differ only in how they
 * open a device and how they notice it has gone.
 */
import { KioskError } from '../app/common/errors.js';
import type { Logger } from '../app/core/log.js';
import type { DeviceState } from '../app/core/ports.js';

/** A subscriber to state changes, given the error that caused a disconnect. */
export type StateListener = (state: DeviceState, error?: Error) => void;

/** A driver's connection state and its subscribers. */
export class DeviceStateHolder {
  private current: DeviceState = 'disconnected';
  private readonly listeners = new Set<StateListener>();

  /** `device` names the device in every log line, e.g. its port and channel. */
  constructor(
    private readonly log: Logger,
    private readonly device: Record<string, unknown>,
  ) {}

  /** The state now. */
  get state(): DeviceState {
    return this.current;
  }

  /** How many subscribers there are, so tests can prove that reconnects do not pile them up. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Subscribes to changes; returns the unsubscribe. */
  subscribe(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Moves to `state` and tells every subscriber. Logged on a change only, so a device absent for
   * hours writes one line, not one per retry; one subscriber that throws cannot starve the rest.
   */
  set(state: DeviceState, error?: Error): void {
    if (state === this.current) return;

    this.current = state;
    const details = { ...this.device, state };
    if (error) warnWithCause(this.log, details, error);
    else this.log.info(details, 'state: changed');

    for (const listener of [...this.listeners]) {
      try {
        listener(state, error);
      } catch (listenerError) {
        this.log.error({ err: listenerError }, 'state: a listener threw');
      }
    }
  }
}

/**
 * Runs `attempt` every `intervalMs` while started, never two at once: the retry loop of a driver
 * looking for its device. The timer does not hold the process open.
 */
export class RetryTimer {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  /** `attempt` reports its own failures; one that throws anyway is logged and tried again. */
  constructor(
    private readonly intervalMs: number,
    private readonly attempt: () => Promise<void>,
    private readonly log: Logger,
  ) {}

  /** Starts the loop; a no-op while it runs. */
  start(): void {
    if (this.timer) return;

    this.timer = setInterval(() => void this.run(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the loop; an attempt already under way finishes. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async run(): Promise<void> {
    if (this.running) return;

    this.running = true;
    try {
      await this.attempt();
    } catch (error) {
      this.log.error({ err: error }, 'retry: an attempt threw');
    } finally {
      this.running = false;
    }
  }
}

function warnWithCause(logger: Logger, details: Record<string, unknown>, error: Error): void {
  const code = error instanceof KioskError ? error.code : undefined;
  logger.warn({ ...details, code, reason: error.message }, 'state: changed');
}
