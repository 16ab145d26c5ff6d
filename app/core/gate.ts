/**
 * The gate: the only part of the kiosk that drives the relay. An opening is committed (visit,
 * audit line) by the caller's `commit` before the relay is pulsed, so no barrier ever opens without
 * its record; stale, undeliverable and failed openings are audited here.
 *
 * Requests are serialised, not coalesced: each is judged at its own turn (staleness included, so
 * one that waited out a queue is dropped rather than replayed late) and each opening keeps its own
 * commit and audit line, where merging two actors into one pulse would blur who opened the gate.
 */
import { KioskError } from '../common/errors.js';
import { moduleLogger } from './log.js';
import type { AuditEntry, DeviceState, KioskStore, RelayDriver } from './ports.js';

const log = moduleLogger('gate');

/** What came of a request to open: when it opened, or why it did not. */
export type GateResult =
  | { opened: true; at: number }
  | { opened: false; reason: 'unavailable' | 'stale' | 'not_committed' | 'failed' };

/** What the gate is built from. */
export interface GateOptions {
  relay: RelayDriver;
  pulseMs: number;
  audit: Pick<KioskStore, 'appendAudit'>;
  /** A request issued longer ago than this (or this far in the future) is dropped. Default 5000. */
  staleAfterMs?: number;
  now?: () => number;
}

/** One request to open the gate. */
export interface GateOpenRequest {
  /** Who asks, as in the audit log: `pass:<id>`, `guard:<name>`, `technician`. */
  actor: string;
  /** Why, e.g. `pass`, `guard_command`, `test_pulse`. */
  reason: string;
  /** When the command was issued (ms since the epoch), for commands that travelled. */
  issuedAt?: number;
  /** Durably writes the opening's audit entry (and records); true only once it is written. */
  commit: () => boolean;
}

/** Opens the barrier through the relay, only after the opening is committed. */
export class Gate {
  private readonly relay: RelayDriver;
  private readonly pulseMs: number;
  private readonly audit: Pick<KioskStore, 'appendAudit'>;
  private readonly staleAfterMs: number;
  private readonly now: () => number;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: GateOptions) {
    this.relay = options.relay;
    this.pulseMs = options.pulseMs;
    this.audit = options.audit;
    this.staleAfterMs = options.staleAfterMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** True while the relay is connected, i.e. an opening could be carried out now. */
  get available(): boolean {
    return isAvailable(this.relay.state);
  }

  /**
   * commit() must durably write the audit entry (and records) and return true; only then the relay
   * is pulsed. Never rejects: every way of not opening is a result.
   */
  open(request: GateOpenRequest): Promise<GateResult> {
    const turn = this.queue
      .then(() => this.openInTurn(request))
      .catch((error: unknown) => {
        log.error({ actor: actorKind(request.actor), err: error }, 'open: unexpected failure');
        return { opened: false, reason: 'failed' } as const;
      });
    this.queue = turn;
    return turn;
  }

  /** Calls `listener` when availability flips; returns the unsubscribe. */
  onAvailabilityChange(listener: (available: boolean) => void): () => void {
    let last = this.available;
    return this.relay.onStateChange((state) => {
      const available = isAvailable(state);
      if (available === last) return;

      last = available;
      listener(available);
    });
  }

  private async openInTurn(request: GateOpenRequest): Promise<GateResult> {
    const ageMs = request.issuedAt === undefined ? 0 : this.now() - request.issuedAt;
    // A command from the future is as suspect as an old one: one of the clocks cannot be trusted.
    if (Math.abs(ageMs) > this.staleAfterMs) {
      this.auditRefusal('gate.stale_dropped', request, { issuedAt: request.issuedAt, ageMs });
      return { opened: false, reason: 'stale' };
    }

    if (!this.available) {
      this.auditRefusal('gate.unavailable', request, { relay: this.relay.state });
      return { opened: false, reason: 'unavailable' };
    }

    if (!this.commit(request)) return { opened: false, reason: 'not_committed' };

    return this.pulse(request);
  }

  private commit(request: GateOpenRequest): boolean {
    try {
      const committed = request.commit();
      if (!committed)
        log.info(
          { actor: actorKind(request.actor), reason: request.reason },
          'open: not committed',
        );
      return committed;
    } catch (error) {
      log.error(
        { actor: actorKind(request.actor), reason: request.reason, err: error },
        'open: commit failed',
      );
      return false;
    }
  }

  private async pulse(request: GateOpenRequest): Promise<GateResult> {
    const at = this.now();
    try {
      await this.relay.pulse(this.pulseMs);
      log.info(
        { actor: actorKind(request.actor), reason: request.reason, pulseMs: this.pulseMs },
        'open: pulsed',
      );
      return { opened: true, at };
    } catch (error) {
      // The opening is already on record; this line says the barrier may not have moved.
      this.auditRefusal('gate.pulse_failed', request, {
        code: errorCode(error),
        message: String(error),
      });
      return { opened: false, reason: 'failed' };
    }
  }

  /** Audits an opening that did not happen; a failing store must not turn it into a throw. */
  private auditRefusal(
    action: string,
    request: GateOpenRequest,
    detail: Record<string, unknown>,
  ): void {
    const entry: AuditEntry = {
      at: this.now(),
      action,
      actor: request.actor,
      detail: { reason: request.reason, ...detail },
    };
    log.warn(
      { action, actor: actorKind(request.actor), reason: request.reason },
      `open: ${action}`,
    );

    try {
      this.audit.appendAudit(entry);
    } catch (error) {
      log.error({ action, err: error }, 'open: audit write failed');
    }
  }
}

function isAvailable(state: DeviceState): boolean {
  return state === 'connected';
}

/** `guard:<name>` and `pass:<id>` may identify a person: logs keep only the part before the colon. */
function actorKind(actor: string): string {
  return actor.split(':', 1)[0] ?? 'unknown';
}

function errorCode(error: unknown): string {
  return error instanceof KioskError ? error.code : 'internal';
}
