/**
 * Call routing: which kiosk rings which guards, who holds a call, and who may open the gate. It
 * does no I/O: time, timers, ids and the outgoing events are injected, so the server wires it to
 * its sockets and audit store, and tests drive it with fake timers.
 *
 * Every message names a call; one that names no live call, or another kiosk's call, or comes from a
 * guard who does not hold the call, is refused with a code and changes nothing. A guard outside
 * the call's ring group always gets `not_in_ring_group`, whatever state the call is in, so the
 * refusal tells them nothing about calls that are not theirs. One open is issued per call.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { CallRefusalCode } from '../app/contract/intercom-protocol.js';
import { moduleLogger } from '../app/core/log.js';
import type { AuditEntry } from '../app/core/ports.js';

const log = moduleLogger('calls');

/** How many ended calls are remembered, so a late message gets `call_ended`, not `call_not_found`. */
const endedCallsKept = 1_000;

/** A refused message: nothing changed. */
export interface CallRefusal {
  ok: false;
  code: CallRefusalCode;
  message: string;
}

/** The outcome of a message: its value, or a refusal with a code. */
export type CallResult<T> = { ok: true; value: T } | CallRefusal;

/** Why a call ended. */
export type CallEndReason =
  | 'missed'
  | 'cancelled'
  | 'hung_up_by_guard'
  | 'hung_up_by_kiosk'
  | 'denied'
  | 'max_call_time'
  | 'guard_left'
  | 'kiosk_left';

/** Who sent a message: a logged-in guard or an authenticated kiosk. */
export type CallParty = { guard: string } | { kioskId: string };

/** A live call as the console's queue shows it. */
export interface CallSummary {
  callId: string;
  kioskId: string;
  state: 'ringing' | 'answered';
  ringStartedAt: number;
  /** The guard holding the call once answered; null while it rings. */
  guard: string | null;
  answeredAt: number | null;
  /** The guards being rung (empty once answered). */
  ringing: string[];
}

/** What the kiosk core needs to check an open before it drives the relay. */
export interface OpenCommand {
  callId: string;
  guard: string;
  kioskId: string;
  issuedAt: number;
  /** Random and single-use: the kiosk refuses a nonce it has seen (a replay). */
  nonce: string;
}

/** Each state change of a call, for the server to send to the kiosk and guards concerned. */
export type CallEvent =
  | { type: 'ringing'; callId: string; kioskId: string; guard: string; ringEndsAt: number }
  | {
      type: 'ring-stopped';
      callId: string;
      kioskId: string;
      guard: string;
      reason: 'answered' | 'cancelled' | 'missed' | 'guard_left' | 'kiosk_left';
      /** Set when another guard took the call ("answered by …"). */
      answeredBy: string | null;
    }
  | { type: 'answered'; callId: string; kioskId: string; guard: string; endsAt: number }
  | { type: 'missed'; callId: string; kioskId: string; at: number }
  | { type: 'ending-soon'; callId: string; kioskId: string; guard: string; endsAt: number }
  | { type: 'denied'; callId: string; kioskId: string; guard: string; at: number }
  | {
      type: 'ended';
      callId: string;
      kioskId: string;
      guard: string | null;
      reason: CallEndReason;
      at: number;
    };

/** A timer as the injected timer functions hand it out. */
export type TimerHandle = unknown;

/** What a call router is built from; every function has a real default. */
export interface CallRouterOptions {
  ringTimeoutMs?: number;
  maxCallMs?: number;
  warnBeforeEndMs?: number;
  now?: () => number;
  setTimer?: (callback: () => void, ms: number) => TimerHandle;
  clearTimer?: (handle: TimerHandle) => void;
  newCallId?: () => string;
  newNonce?: () => string;
  /** Receives every call event; a throwing listener is logged and does not break routing. */
  emit: (event: CallEvent) => void;
  /** Receives the audit line of each answer, open, refused open, deny, miss and end. */
  audit?: (entry: AuditEntry) => void;
}

/** Routes calls between kiosks and guards; see `createCallRouter`. */
export interface CallRouter {
  /**
   * Rings `ringGroupGuards` at once; returns the new call's id. `members` are the guards who may
   * see the call at all (the whole ring group, offline guards too); by default those rung.
   */
  ring(
    kioskId: string,
    ringGroupGuards: readonly string[],
    members?: readonly string[],
  ): CallResult<string>;
  /** The first guard to answer takes the call; the others stop ringing. */
  answer(callId: string, guard: string): CallResult<CallSummary>;
  /** Ends an answered call, by the guard holding it or the kiosk it belongs to. */
  hangUp(callId: string, by: CallParty): CallResult<void>;
  /** The kiosk gives up: stops the ringing, or hangs up if a guard already answered. */
  cancel(callId: string, kioskId: string): CallResult<void>;
  /** The one open command of a call, only for the guard holding the answered call. */
  requestOpen(callId: string, guard: string): CallResult<OpenCommand>;
  /** The guard refuses entry: audited, the kiosk is told, and the call ends. */
  deny(callId: string, guard: string): CallResult<void>;
  /** A guard logged out or lost the connection: stops their ringing and ends the call they hold. */
  guardLeft(guard: string): void;
  /** A kiosk lost its connection: its call ends. */
  kioskLeft(kioskId: string): void;
  /** The live calls, oldest ring first. */
  queue(): CallSummary[];
  /** The live call of a kiosk, if any. */
  callOf(kioskId: string): CallSummary | undefined;
  /** The answered call `callId` when `guard` holds it, or why not (as answer, open and deny). */
  heldCall(callId: string, guard: string): CallResult<CallSummary>;
  /** Stops every timer; live calls are dropped without events (the server is shutting down). */
  close(): void;
}

interface Call {
  callId: string;
  kioskId: string;
  ringStartedAt: number;
  /** Order of ringing, so calls that started in the same millisecond keep their order. */
  sequence: number;
  ringing: Set<string>;
  /** The guards rung; only they may answer. */
  ringGroup: ReadonlySet<string>;
  /** Every guard the call concerns; anyone else is refused `not_in_ring_group`. */
  members: ReadonlySet<string>;
  guard: string | null;
  /** When the one open of the call was issued. */
  openedAt: number | null;
  answeredAt: number | null;
  timers: TimerHandle[];
}

/** What is kept of an ended call: enough to refuse a late message with the right code. */
interface EndedCall {
  kioskId: string;
  members: ReadonlySet<string>;
}

/** Builds a call router with no I/O of its own. */
export function createCallRouter(options: CallRouterOptions): CallRouter {
  return new Router(options);
}

class Router implements CallRouter {
  private readonly ringTimeoutMs: number;
  private readonly maxCallMs: number;
  private readonly warnBeforeEndMs: number;
  private readonly now: () => number;
  private readonly setTimer: (callback: () => void, ms: number) => TimerHandle;
  private readonly clearTimer: (handle: TimerHandle) => void;
  private readonly newCallId: () => string;
  private readonly newNonce: () => string;
  private readonly emitEvent: (event: CallEvent) => void;
  private readonly writeAudit: (entry: AuditEntry) => void;
  private readonly calls = new Map<string, Call>();
  /** Ended call id to its kiosk and members, oldest first, bounded by `endedCallsKept`. */
  private readonly ended = new Map<string, EndedCall>();
  private sequence = 0;

  constructor(options: CallRouterOptions) {
    this.ringTimeoutMs = options.ringTimeoutMs ?? 30_000;
    this.maxCallMs = options.maxCallMs ?? 180_000;
    this.warnBeforeEndMs = options.warnBeforeEndMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
    this.clearTimer =
      options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
    this.newCallId = options.newCallId ?? randomUUID;
    this.newNonce = options.newNonce ?? (() => randomBytes(18).toString('base64url'));
    this.emitEvent = options.emit;
    this.writeAudit = options.audit ?? (() => undefined);
  }

  ring(
    kioskId: string,
    ringGroupGuards: readonly string[],
    members: readonly string[] = ringGroupGuards,
  ): CallResult<string> {
    const busy = this.liveCallOf(kioskId);
    if (busy) {
      return this.refused('ring', busy.callId, refuse('kiosk_busy', 'kiosk has a call'), {
        kioskId,
      });
    }

    const guards = new Set(ringGroupGuards);
    if (guards.size === 0)
      return this.refused(
        'ring',
        null,
        refuse('no_guards', 'no guard of the ring group is online'),
        { kioskId },
      );

    const call = this.startCall(kioskId, guards, new Set([...members, ...guards]));
    log.info({ callId: call.callId, kioskId, guards: guards.size }, 'ring: ringing');
    this.audit(call, 'call.ring', `kiosk:${kioskId}`, { guards: [...guards] });
    for (const guard of guards)
      this.emit({
        type: 'ringing',
        callId: call.callId,
        kioskId,
        guard,
        ringEndsAt: this.ringEnd(call),
      });

    return { ok: true, value: call.callId };
  }

  answer(callId: string, guard: string): CallResult<CallSummary> {
    const found = this.concerning(callId, guard);
    if (!found.ok) return this.refused('answer', callId, found);

    const call = found.value;
    if (call.guard !== null)
      return this.refused('answer', callId, refuse('already_answered', 'another guard answered'));
    if (!call.ringGroup.has(guard))
      return this.refused('answer', callId, refuse('not_in_ring_group', 'guard was not rung'));

    this.takeCall(call, guard);
    log.info({ callId, kioskId: call.kioskId }, 'answer: answered');
    return { ok: true, value: summarise(call) };
  }

  hangUp(callId: string, by: CallParty): CallResult<void> {
    return this.endBy('hang-up', callId, by);
  }

  cancel(callId: string, kioskId: string): CallResult<void> {
    return this.endBy('cancel', callId, { kioskId });
  }

  /** A hang-up or a cancel: the two differ only in the name their refusals are logged under. */
  private endBy(operation: string, callId: string, by: CallParty): CallResult<void> {
    const found = 'guard' in by ? this.heldBy(callId, by.guard) : this.ownedBy(callId, by.kioskId);
    if (!found.ok) return this.refused(operation, callId, found, by);

    const call = found.value;
    if (call.guard === null) {
      // A kiosk hanging up before anyone answered is a cancel; a guard cannot hold a ringing call.
      this.end(call, 'cancelled', `kiosk:${call.kioskId}`);
      return { ok: true, value: undefined };
    }

    const reason = 'guard' in by ? 'hung_up_by_guard' : 'hung_up_by_kiosk';
    this.end(call, reason, actorOf(by));
    return { ok: true, value: undefined };
  }

  requestOpen(callId: string, guard: string): CallResult<OpenCommand> {
    const found = this.openable(callId, guard);
    if (!found.ok) {
      this.auditRefusedOpen(callId, guard, found.code);
      return this.refused('open', callId, found);
    }

    const call = found.value;
    call.openedAt = this.now();
    const command: OpenCommand = {
      callId,
      guard,
      kioskId: call.kioskId,
      issuedAt: this.now(),
      nonce: this.newNonce(),
    };
    this.audit(call, 'call.open', `guard:${guard}`, { nonce: command.nonce });
    log.info({ callId, kioskId: call.kioskId }, 'open: command issued');
    return { ok: true, value: command };
  }

  deny(callId: string, guard: string): CallResult<void> {
    const found = this.heldBy(callId, guard);
    if (!found.ok) return this.refused('deny', callId, found);

    const call = found.value;
    const at = this.now();
    this.audit(call, 'call.deny', `guard:${guard}`, {});
    this.emit({ type: 'denied', callId, kioskId: call.kioskId, guard, at });
    this.end(call, 'denied', `guard:${guard}`);
    return { ok: true, value: undefined };
  }

  guardLeft(guard: string): void {
    for (const call of [...this.calls.values()]) {
      if (call.guard === guard) this.end(call, 'guard_left', `guard:${guard}`);
      else if (call.ringing.delete(guard)) this.stopRinging(call, guard, 'guard_left', null);
    }
  }

  kioskLeft(kioskId: string): void {
    const call = this.liveCallOf(kioskId);
    if (call) this.end(call, 'kiosk_left', `kiosk:${kioskId}`);
  }

  queue(): CallSummary[] {
    return [...this.calls.values()]
      .sort((a, b) => a.ringStartedAt - b.ringStartedAt || a.sequence - b.sequence)
      .map(summarise);
  }

  callOf(kioskId: string): CallSummary | undefined {
    const call = this.liveCallOf(kioskId);
    return call && summarise(call);
  }

  heldCall(callId: string, guard: string): CallResult<CallSummary> {
    const found = this.heldBy(callId, guard);
    return found.ok ? { ok: true, value: summarise(found.value) } : found;
  }

  close(): void {
    for (const call of this.calls.values()) this.clearTimers(call);
    this.calls.clear();
  }

  private startCall(
    kioskId: string,
    guards: ReadonlySet<string>,
    members: ReadonlySet<string>,
  ): Call {
    const call: Call = {
      callId: this.newCallId(),
      kioskId,
      ringStartedAt: this.now(),
      sequence: this.sequence++,
      ringing: new Set(guards),
      ringGroup: guards,
      members,
      guard: null,
      openedAt: null,
      answeredAt: null,
      timers: [],
    };
    this.calls.set(call.callId, call);
    call.timers.push(this.setTimer(() => this.miss(call), this.ringTimeoutMs));
    return call;
  }

  private takeCall(call: Call, guard: string): void {
    this.clearTimers(call);
    call.guard = guard;
    call.answeredAt = this.now();

    const endsAt = call.answeredAt + this.maxCallMs;
    this.audit(call, 'call.answer', `guard:${guard}`, {});
    this.emit({ type: 'answered', callId: call.callId, kioskId: call.kioskId, guard, endsAt });
    for (const other of call.ringing)
      if (other !== guard) this.stopRinging(call, other, 'answered', guard);
    call.ringing.clear();

    const warnAfterMs = Math.max(0, this.maxCallMs - this.warnBeforeEndMs);
    call.timers.push(this.setTimer(() => this.warnEnding(call, guard, endsAt), warnAfterMs));
    call.timers.push(
      this.setTimer(() => this.end(call, 'max_call_time', 'server'), this.maxCallMs),
    );
  }

  private miss(call: Call): void {
    if (!this.isLive(call) || call.guard !== null) return;

    const at = this.now();
    log.info({ callId: call.callId, kioskId: call.kioskId }, 'ring: missed');
    this.emit({ type: 'missed', callId: call.callId, kioskId: call.kioskId, at });
    this.end(call, 'missed', 'server');
  }

  private warnEnding(call: Call, guard: string, endsAt: number): void {
    if (!this.isLive(call)) return;

    this.emit({ type: 'ending-soon', callId: call.callId, kioskId: call.kioskId, guard, endsAt });
  }

  /** The one way a call ends: timers stop, ringing stops, one `ended` event and one audit line. */
  private end(call: Call, reason: CallEndReason, actor: string): void {
    this.clearTimers(call);
    this.calls.delete(call.callId);
    this.remember(call);

    const ringStop = ringStopReason(reason);
    for (const guard of call.ringing) this.stopRinging(call, guard, ringStop, null);
    call.ringing.clear();

    const at = this.now();
    const action = reason === 'missed' ? 'call.miss' : 'call.end';
    this.audit(call, action, actor, { reason, durationMs: at - call.ringStartedAt });
    log.info({ callId: call.callId, kioskId: call.kioskId, reason }, 'end: call ended');
    this.emit({
      type: 'ended',
      callId: call.callId,
      kioskId: call.kioskId,
      guard: call.guard,
      reason,
      at,
    });
  }

  private stopRinging(
    call: Call,
    guard: string,
    reason: Extract<CallEvent, { type: 'ring-stopped' }>['reason'],
    answeredBy: string | null,
  ): void {
    this.emit({
      type: 'ring-stopped',
      callId: call.callId,
      kioskId: call.kioskId,
      guard,
      reason,
      answeredBy,
    });
  }

  /** The live call `callId`, or why there is none. */
  private find(callId: string): CallResult<Call> {
    const call = this.calls.get(callId);
    if (call) return { ok: true, value: call };

    return this.ended.has(callId)
      ? refuse('call_ended', 'the call has ended')
      : refuse('call_not_found', 'no such call');
  }

  /** The live call `callId` when `guard` is among its members; membership is checked first. */
  private concerning(callId: string, guard: string): CallResult<Call> {
    const members = this.calls.get(callId)?.members ?? this.ended.get(callId)?.members;
    if (members && !members.has(guard))
      return refuse('not_in_ring_group', 'the call is not one of your ring group');

    return this.find(callId);
  }

  /** The live call, only when `kioskId` is the kiosk that placed it. */
  private ownedBy(callId: string, kioskId: string): CallResult<Call> {
    const owner = this.kioskOfCall(callId);
    if (owner !== null && owner !== kioskId)
      return refuse('wrong_kiosk', 'the call belongs to another kiosk');

    return this.find(callId);
  }

  /** The live call, only when `guard` answered it. */
  private heldBy(callId: string, guard: string): CallResult<Call> {
    const found = this.concerning(callId, guard);
    if (!found.ok) return found;

    const call = found.value;
    if (call.guard === null) return refuse('not_answered', 'nobody has answered the call yet');
    if (call.guard !== guard) return refuse('not_call_holder', 'another guard holds the call');

    return found;
  }

  /**
   * The call its holder may open: the kiosk accepts one open per call, so a second one (another
   * tab, a double click, a replay) is refused here rather than sent to be refused there.
   */
  private openable(callId: string, guard: string): CallResult<Call> {
    const found = this.heldBy(callId, guard);
    if (!found.ok || found.value.openedAt === null) return found;

    return refuse('already_opened', 'the gate was already opened for this call');
  }

  private liveCallOf(kioskId: string): Call | undefined {
    for (const call of this.calls.values()) if (call.kioskId === kioskId) return call;
    return undefined;
  }

  private isLive(call: Call): boolean {
    return this.calls.get(call.callId) === call;
  }

  private ringEnd(call: Call): number {
    return call.ringStartedAt + this.ringTimeoutMs;
  }

  private remember(call: Call): void {
    this.ended.set(call.callId, { kioskId: call.kioskId, members: call.members });
    if (this.ended.size <= endedCallsKept) return;

    const oldest = this.ended.keys().next();
    if (!oldest.done) this.ended.delete(oldest.value);
  }

  private clearTimers(call: Call): void {
    for (const timer of call.timers) this.clearTimer(timer);
    call.timers = [];
  }

  private auditRefusedOpen(callId: string, guard: string, code: CallRefusalCode): void {
    const kioskId = this.kioskOfCall(callId);
    this.safely('audit', () =>
      this.writeAudit({
        at: this.now(),
        action: 'call.open_refused',
        actor: `guard:${guard}`,
        detail: { callId, kioskId, code },
      }),
    );
  }

  /**
   * Refusals are logged once, with the kiosk the call belongs to and, when a kiosk sent the
   * message, the sending kiosk (they differ for `wrong_kiosk`); never with the guard's name.
   */
  private refused<T>(
    operation: string,
    callId: string | null,
    refusal: CallRefusal,
    by?: CallParty,
  ): CallResult<T> {
    const callKioskId = callId === null ? undefined : this.kioskOfCall(callId);
    const senderKioskId = by && 'kioskId' in by ? by.kioskId : undefined;
    log.warn({ callId, code: refusal.code, callKioskId, senderKioskId }, `${operation}: refused`);
    return refusal;
  }

  /** The kiosk of a live or remembered call, or null. */
  private kioskOfCall(callId: string): string | null {
    return this.calls.get(callId)?.kioskId ?? this.ended.get(callId)?.kioskId ?? null;
  }

  private audit(call: Call, action: string, actor: string, detail: Record<string, unknown>): void {
    const entry: AuditEntry = {
      at: this.now(),
      action,
      actor,
      detail: { callId: call.callId, kioskId: call.kioskId, ...detail },
    };
    this.safely('audit', () => this.writeAudit(entry));
  }

  private emit(event: CallEvent): void {
    this.safely('emit', () => this.emitEvent(event));
  }

  /** A failing listener is the server's bug; it must not leave a call half-changed. */
  private safely(what: string, action: () => void): void {
    try {
      action();
    } catch (error) {
      log.error({ err: error }, `${what}: listener failed`);
    }
  }
}

function refuse(code: CallRefusalCode, message: string): CallRefusal {
  return { ok: false, code, message };
}

function summarise(call: Call): CallSummary {
  return {
    callId: call.callId,
    kioskId: call.kioskId,
    state: call.guard === null ? 'ringing' : 'answered',
    ringStartedAt: call.ringStartedAt,
    guard: call.guard,
    answeredAt: call.answeredAt,
    ringing: [...call.ringing],
  };
}

function actorOf(party: CallParty): string {
  return 'guard' in party ? `guard:${party.guard}` : `kiosk:${party.kioskId}`;
}

/** Guards still ringing when a call ends learn why it stopped. */
function ringStopReason(
  reason: CallEndReason,
): Extract<CallEvent, { type: 'ring-stopped' }>['reason'] {
  if (reason === 'missed' || reason === 'kiosk_left' || reason === 'guard_left') return reason;

  return 'cancelled';
}
