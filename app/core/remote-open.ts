/**
 * The kiosk's check of an open command from the intercom server. The server already checked that
 * the guard holds the call; the core checks again, because only the core opens the gate: the
 * command must name the call in progress and the guard who answered it, be fresh, and carry a nonce
 * never seen before. A call opens the gate once: a second open for it (a double click, a second
 * console of the same guard) is refused. A refused command is audited with its reason and drives
 * nothing.
 *
 * Nonces live in memory only: after a restart there is no call in progress, so nothing from
 * before it can open. They are kept by count, not by age: a command copied off the wire and sent
 * again later with a fresh issue time still carries a spent nonce. What stops a forged command is
 * the authenticated, encrypted channel (wss://, see intercom.url in config.ts), not the nonce.
 */
import { z } from 'zod';
import type { Gate, GateResult } from './gate.js';
import { moduleLogger } from './log.js';
import type { AuditEntry, KioskStore } from './ports.js';

const log = moduleLogger('remote-open');

// Guards open a gate a few hundred times a day at most: this covers weeks, in well under a MB.
const maxRememberedNonces = 20_000;

/** An open command as the intercom server sends it; other fields (such as kioskId) are ignored. */
export const RemoteOpenCommandSchema = z.object({
  callId: z.string().min(1).max(128),
  guard: z.string().min(1).max(128),
  issuedAt: z.number().finite(),
  nonce: z.string().min(8).max(128),
});
export type RemoteOpenCommand = z.infer<typeof RemoteOpenCommandSchema>;

/** Why a command opened nothing: the core's own checks, then the gate's. */
export type RemoteOpenRefusal =
  | 'malformed'
  | 'no_active_call'
  | 'call_ended'
  | 'unknown_call'
  | 'wrong_guard'
  | 'stale'
  | 'replayed'
  | 'already_opened'
  | Exclude<Extract<GateResult, { opened: false }>['reason'], 'stale'>;

/** What came of an open command. */
export type RemoteOpenResult =
  { opened: true; at: number } | { opened: false; reason: RemoteOpenRefusal };

/** What a remote opener is built from. */
export interface RemoteOpenerOptions {
  gate: Gate;
  audit: Pick<KioskStore, 'appendAudit'>;
  now?: () => number;
  /** A command issued longer ago than this, or this far in the future, is refused. */
  staleAfterMs?: number;
}

/** Opens the gate for a guard's command, only for the call in progress and the guard holding it. */
export interface RemoteOpener {
  /** The server says `guard` answered `callId`: from now on that guard may open. */
  activeCall(callId: string, guard: string): void;
  /** The call ended: no command opens until the next call is answered. */
  endCall(): void;
  /** Checks the command and, only if every check passes, opens through the gate. Never rejects. */
  open(command: unknown): Promise<RemoteOpenResult>;
}

interface ActiveCall {
  callId: string;
  guard: string;
}

/** Builds the kiosk core's checker of remote open commands. */
export function createRemoteOpener(options: RemoteOpenerOptions): RemoteOpener {
  return new Opener(options);
}

class Opener implements RemoteOpener {
  private readonly gate: Gate;
  private readonly audit: Pick<KioskStore, 'appendAudit'>;
  private readonly now: () => number;
  private readonly staleAfterMs: number;
  private active: ActiveCall | null = null;
  private lastEndedCallId: string | null = null;
  /** The call whose one opening is committed; it opens nothing more. */
  private openedCallId: string | null = null;
  /** Every nonce seen since start, oldest first, up to maxRememberedNonces. */
  private readonly seenNonces = new Set<string>();

  constructor(options: RemoteOpenerOptions) {
    this.gate = options.gate;
    this.audit = options.audit;
    this.now = options.now ?? Date.now;
    this.staleAfterMs = options.staleAfterMs ?? 5_000;
  }

  activeCall(callId: string, guard: string): void {
    this.active = { callId, guard };
    log.info({ callId }, 'call: answered, remote open allowed');
  }

  endCall(): void {
    if (!this.active) return;

    log.info({ callId: this.active.callId }, 'call: ended, remote open closed');
    this.lastEndedCallId = this.active.callId;
    this.active = null;
  }

  async open(input: unknown): Promise<RemoteOpenResult> {
    const parsed = RemoteOpenCommandSchema.safeParse(input);
    if (!parsed.success) return this.refuse('malformed', null);

    const command = parsed.data;
    const refusal = this.check(command);
    if (refusal) return this.refuse(refusal, command);

    let lateRefusal: RemoteOpenRefusal | null = null;
    let claimed = false;
    const commit = () => {
      lateRefusal = this.callRefusal(command);
      if (lateRefusal !== null) return false;

      claimed = true;
      return this.commit(command);
    };

    const result = await this.gate.open({
      actor: `guard:${command.guard}`,
      reason: 'guard_command',
      issuedAt: command.issuedAt,
      commit,
    });
    log.info({ callId: command.callId, opened: result.opened }, 'open: gate answered');
    if (lateRefusal !== null) return this.refuse(lateRefusal, command);

    if (claimed && !result.opened) this.releaseClaim(command, result.reason);
    return result;
  }

  /** The first reason to refuse, or null. The nonce is spent by any well-formed command. */
  private check(command: RemoteOpenCommand): RemoteOpenRefusal | null {
    const replayed = this.spendNonce(command);
    if (replayed) return 'replayed';

    if (Math.abs(this.now() - command.issuedAt) > this.staleAfterMs) return 'stale';

    return this.callRefusal(command);
  }

  private callRefusal(command: RemoteOpenCommand): RemoteOpenRefusal | null {
    if (this.active?.callId === command.callId) return this.holderRefusal(command);

    if (command.callId === this.lastEndedCallId) return 'call_ended';

    return this.active ? 'unknown_call' : 'no_active_call';
  }

  /** The guard holding the call may open it, once. */
  private holderRefusal(command: RemoteOpenCommand): RemoteOpenRefusal | null {
    if (this.active?.guard !== command.guard) return 'wrong_guard';

    return command.callId === this.openedCallId ? 'already_opened' : null;
  }

  /** True when the nonce was seen before; otherwise remembers it, forgetting the oldest. */
  private spendNonce(command: RemoteOpenCommand): boolean {
    if (this.seenNonces.has(command.nonce)) return true;

    this.seenNonces.add(command.nonce);
    if (this.seenNonces.size > maxRememberedNonces) {
      const oldest = this.seenNonces.values().next().value;
      if (oldest !== undefined) this.seenNonces.delete(oldest);
    }
    return false;
  }

  /**
   * Runs at the gate's turn, just before the pulse, once the call was checked again there: it may
   * have ended while the command waited behind another opening. The line is written before the
   * relay moves; a store that throws means nothing opens.
   */
  private commit(command: RemoteOpenCommand): boolean {
    // Claimed before the write: a later command checked at its own turn sees the call as opened.
    this.openedCallId = command.callId;
    this.audit.appendAudit({
      at: this.now(),
      action: 'gate.open',
      actor: `guard:${command.guard}`,
      detail: { reason: 'guard_command', callId: command.callId, nonce: command.nonce },
    });
    return true;
  }

  /**
   * An opening whose audit line could not be written, or whose pulse the relay reported as failed,
   * did not move the barrier for sure: the guard may try again.
   */
  private releaseClaim(command: RemoteOpenCommand, reason: string): void {
    if (this.openedCallId !== command.callId) return;

    log.info({ callId: command.callId, reason }, 'open: did not open, may be retried');
    this.openedCallId = null;
  }

  private refuse(reason: RemoteOpenRefusal, command: RemoteOpenCommand | null): RemoteOpenResult {
    const entry: AuditEntry = {
      at: this.now(),
      action: 'gate.remote_open_refused',
      actor: command ? `guard:${command.guard}` : 'unknown',
      detail: {
        reason,
        callId: command?.callId ?? null,
        nonce: command?.nonce ?? null,
        issuedAt: command?.issuedAt ?? null,
      },
    };
    log.warn({ reason, callId: command?.callId ?? null }, 'open: refused');

    try {
      this.audit.appendAudit(entry);
    } catch (error) {
      log.error({ err: error }, 'open: audit write failed');
    }
    return { opened: false, reason };
  }
}
