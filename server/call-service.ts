/**
 * Wires the call router to the kiosk and guard channels: a kiosk's `call` rings the online guards
 * of its ring group, each router event goes to the sockets it concerns, and every audit line of
 * the router lands in the server's audit log. Signalling is relayed only between a kiosk and the
 * guard holding its call. A message naming a call that does not exist, belongs to another kiosk or
 * is held by another guard is refused with a code and nothing is sent on.
 *
 * Each call is kept in the store's call history from its first ring to its end; calls a stopped
 * server left live are closed when the next one starts (see ServerStore.closeLiveCalls).
 */
import { moduleLogger } from '../app/core/log.js';
import {
  createCallRouter,
  type CallEvent,
  type CallRefusal,
  type CallRouter,
  type CallSummary,
} from './calls.js';
import type { ServerConfig } from './config.js';
import type { GuardChannel } from './guard-channel.js';
import { mediaConfigFor } from './ice.js';
import type { KioskChannel } from './kiosk-channel.js';
import type {
  CallContext,
  CallRefusalCode,
  GuardMessage,
  KioskMessage,
  QueuedCall,
  ServerToGuardMessage,
  ServerToKioskMessage,
} from '../app/contract/intercom-protocol.js';
import type { ServerStore } from './store.js';

const log = moduleLogger('call-service');

/** Call timings; each defaults to 30 s ring, 3 min call and a warning 10 s before its end. */
export interface CallTimings {
  ringTimeoutMs?: number;
  maxCallMs?: number;
  warnBeforeEndMs?: number;
}

/** What the call service is built from. */
export interface CallServiceOptions {
  kiosks: KioskChannel;
  guards: GuardChannel;
  store: Pick<
    ServerStore,
    | 'guardsForKiosk'
    | 'appendAudit'
    | 'recordCallStart'
    | 'recordCallAnswer'
    | 'recordCallOpen'
    | 'recordCallEnd'
    | 'closeLiveCalls'
  >;
  /** STUN and TURN servers and the transport policy handed to both ends of each call. */
  ice: ServerConfig['ice'];
  now: () => number;
  timings?: CallTimings;
}

/** The call timings of a server configuration, in milliseconds. */
export function callTimingsFrom(calls: ServerConfig['calls']): Required<CallTimings> {
  return {
    ringTimeoutMs: calls.ringTimeoutSeconds * 1000,
    maxCallMs: calls.maxCallSeconds * 1000,
    warnBeforeEndMs: calls.warnBeforeEndSeconds * 1000,
  };
}

/** What the service remembers of a kiosk's live call beyond the router's summary. */
interface CallInfo {
  kioskName: string;
  /** Every enabled guard of the ring group, online or not: they see the call in their queue. */
  ringGroup: ReadonlySet<string>;
  /** What the kiosk knew about the visitor when they called. */
  context: CallContext | null;
}

type Refusal = Pick<CallRefusal, 'code' | 'message'>;

/** Answers the one console a guard's message came from. */
type GuardReply = (message: ServerToGuardMessage) => void;

/** Routes calls between the kiosk and guard channels. */
export class CallService {
  readonly #kiosks: KioskChannel;
  readonly #guards: GuardChannel;
  readonly #store: CallServiceOptions['store'];
  readonly #ice: ServerConfig['ice'];
  readonly #now: () => number;
  readonly #ringTimeoutMs: number;
  readonly #maxCallMs: number;
  readonly #router: CallRouter;
  /** Keyed by kiosk id: a kiosk has at most one live call. */
  readonly #calls = new Map<string, CallInfo>();
  readonly #detach: (() => void)[] = [];

  constructor(options: CallServiceOptions) {
    this.#kiosks = options.kiosks;
    this.#guards = options.guards;
    this.#store = options.store;
    this.#ice = options.ice;
    this.#now = options.now;
    this.#ringTimeoutMs = options.timings?.ringTimeoutMs ?? 30_000;
    this.#maxCallMs = options.timings?.maxCallMs ?? 180_000;
    this.#router = createCallRouter({
      ...options.timings,
      ringTimeoutMs: this.#ringTimeoutMs,
      maxCallMs: this.#maxCallMs,
      now: options.now,
      emit: (event) => this.#route(event),
      audit: (entry) => this.#store.appendAudit(entry),
    });
    this.#closeLeftoverCalls('start');
    this.#listen();
  }

  /** Every live call, oldest ring first. */
  queue(): QueuedCall[] {
    return this.#router.queue().map((call) => this.#queued(call));
  }

  /**
   * Stops listening and drops live calls without events (the server is shutting down; the
   * channels tell kiosks and consoles). The history closes those calls as the kiosks left.
   */
  close(): void {
    for (const detach of this.#detach.splice(0)) detach();
    this.#router.close();
    this.#calls.clear();
    this.#closeLeftoverCalls('shutdown');
  }

  #closeLeftoverCalls(when: 'start' | 'shutdown'): void {
    this.#record('close live calls', () => {
      const limits = { ringTimeoutMs: this.#ringTimeoutMs, maxCallMs: this.#maxCallMs };
      const closed = this.#store.closeLiveCalls(this.#now(), limits);
      if (closed > 0) log.info({ closed, when }, 'history: live calls closed');
    });
  }

  #listen(): void {
    const onKiosk = (kioskId: string, message: KioskMessage) => this.#fromKiosk(kioskId, message);
    const onKioskOffline = (kioskId: string) => this.#router.kioskLeft(kioskId);
    const onGuard = (guard: { name: string }, message: GuardMessage, reply: GuardReply) =>
      this.#fromGuard(guard.name, message, reply);
    const onGuardOnline = (guard: { name: string }) => this.#sendQueue(guard.name);
    const onGuardOffline = (guardName: string) => this.#router.guardLeft(guardName);

    this.#kiosks.on('message', onKiosk);
    this.#kiosks.on('offline', onKioskOffline);
    this.#guards.on('message', onGuard);
    this.#guards.on('online', onGuardOnline);
    this.#guards.on('offline', onGuardOffline);
    this.#detach.push(
      () => this.#kiosks.off('message', onKiosk),
      () => this.#kiosks.off('offline', onKioskOffline),
      () => this.#guards.off('message', onGuard),
      () => this.#guards.off('online', onGuardOnline),
      () => this.#guards.off('offline', onGuardOffline),
    );
  }

  #fromKiosk(kioskId: string, message: KioskMessage): void {
    const refuse = (callId: string | null, refusal: Refusal) =>
      this.#toKiosk(kioskId, refusedMessage(message.type, callId, refusal));

    switch (message.type) {
      case 'call':
        return this.#ring(kioskId, message.context ?? null, refuse);
      case 'cancel':
      case 'hangup': {
        const { callId } = message;
        const result =
          message.type === 'cancel'
            ? this.#router.cancel(callId, kioskId)
            : this.#router.hangUp(callId, { kioskId });
        if (!result.ok) refuse(callId, result);
        return;
      }
      case 'signal': {
        const checked = this.#kioskHolds(kioskId, message.callId);
        if ('code' in checked) {
          return this.#refuseSignal(refuse, message.callId, checked, kioskId);
        }
        this.#guards.send(checked.guard, message);
        return;
      }
      // The channel answers hello and ping itself.
      case 'hello':
      case 'ping':
        return;
    }
  }

  /** A refusal goes to the console that sent the message, not to the guard's other consoles. */
  #fromGuard(guard: string, message: GuardMessage, reply: GuardReply): void {
    // The channel answers ping itself; every other message names a call.
    if (message.type === 'ping') return;

    const refuse = (refusal: Refusal) =>
      reply(refusedMessage(message.type, message.callId, refusal));
    const settle = (result: { ok: true } | CallRefusal) => {
      if (!result.ok) refuse(result);
    };

    switch (message.type) {
      case 'answer':
        return settle(this.#router.answer(message.callId, guard));
      case 'hangup':
        return settle(this.#router.hangUp(message.callId, { guard }));
      case 'deny':
        return settle(this.#router.deny(message.callId, guard));
      case 'open':
        return this.#open(guard, message.callId, refuse);
      case 'signal': {
        const checked = this.#guardHolds(guard, message.callId);
        if ('code' in checked)
          return this.#refuseSignal((_, r) => refuse(r), message.callId, checked);
        this.#kiosks.send(checked.kioskId, message);
        return;
      }
    }
  }

  #ring(
    kioskId: string,
    context: CallContext | null,
    refuse: (callId: string | null, refusal: Refusal) => void,
  ): void {
    const live = this.#router.callOf(kioskId);
    if (live) return refuse(live.callId, { code: 'kiosk_busy', message: 'kiosk has a call' });

    const ringGroup = this.#store.guardsForKiosk(kioskId).map((guard) => guard.name);
    const online = ringGroup.filter((name) => this.#guards.isOnline(name));
    const kioskName = this.#kiosks.onlineKiosk(kioskId)?.kiosk.name ?? kioskId;
    // Set before ringing: the router's `ringing` events need the kiosk's name and context.
    this.#calls.set(kioskId, { kioskName, ringGroup: new Set(ringGroup), context });

    const result = this.#router.ring(kioskId, online, ringGroup);
    if (!result.ok) {
      this.#calls.delete(kioskId);
      this.#auditUnanswerable(kioskId, result.code, ringGroup.length);
      return refuse(null, result);
    }

    const ringStartedAt = this.#router.callOf(kioskId)?.ringStartedAt ?? this.#now();
    this.#record('call start', () =>
      this.#store.recordCallStart({ callId: result.value, kioskId, ringStartedAt }),
    );
    const ringEndsAt = ringStartedAt + this.#ringTimeoutMs;
    this.#toKiosk(kioskId, { type: 'ringing', callId: result.value, ringEndsAt });
    this.#broadcastQueue();
  }

  /** A visitor who called while nobody could be rung got no answer: the audit log says so. */
  #auditUnanswerable(kioskId: string, code: CallRefusalCode, ringGroupSize: number): void {
    if (code !== 'no_guards') return;

    this.#record('audit', () =>
      this.#store.appendAudit({
        at: this.#now(),
        action: 'call.no_guards',
        actor: `kiosk:${kioskId}`,
        detail: { kioskId, ringGroupSize },
      }),
    );
  }

  #open(guard: string, callId: string, refuse: (refusal: Refusal) => void): void {
    const result = this.#router.requestOpen(callId, guard);
    if (!result.ok) return refuse(result);

    const { kioskId, issuedAt, nonce } = result.value;
    const sent = this.#toKiosk(kioskId, { type: 'open', callId, guard, issuedAt, nonce });
    if (!sent) {
      this.#openUndelivered(guard, callId, kioskId, nonce);
      return refuse({
        code: 'kiosk_offline',
        message: 'the kiosk is not connected: nothing opened',
      });
    }

    this.#record('call open', () => this.#store.recordCallOpen(callId));
    this.#toGuard(guard, { type: 'open-sent', callId });
  }

  // The router audited the open before it was sent; the log must not read as if the gate opened.
  #openUndelivered(guard: string, callId: string, kioskId: string, nonce: string): void {
    log.warn({ callId, kioskId }, 'open: kiosk is not connected');
    this.#record('audit', () =>
      this.#store.appendAudit({
        at: this.#now(),
        action: 'call.open_undelivered',
        actor: `guard:${guard}`,
        detail: { callId, kioskId, nonce },
      }),
    );
  }

  /** The answered call `callId` when it is this kiosk's; otherwise why not. */
  #kioskHolds(kioskId: string, callId: string): (CallSummary & { guard: string }) | Refusal {
    const call = this.#liveCall(callId);
    if (!call) return { code: 'call_not_found', message: 'no such live call' };
    if (call.kioskId !== kioskId)
      return { code: 'wrong_kiosk', message: 'the call belongs to another kiosk' };
    if (call.guard === null)
      return { code: 'not_answered', message: 'nobody has answered the call yet' };

    return { ...call, guard: call.guard };
  }

  /** The call `callId` when this guard holds it; otherwise why not, as for an open. */
  #guardHolds(guard: string, callId: string): CallSummary | Refusal {
    const held = this.#router.heldCall(callId, guard);
    return held.ok ? held.value : held;
  }

  /** Logged with the call's kiosk and, for a kiosk's signal, the sender (they differ for `wrong_kiosk`). */
  #refuseSignal(
    refuse: (callId: string | null, refusal: Refusal) => void,
    callId: string,
    refusal: Refusal,
    senderKioskId?: string,
  ): void {
    const callKioskId = this.#liveCall(callId)?.kioskId ?? null;
    log.warn({ callId, code: refusal.code, callKioskId, senderKioskId }, 'signal: refused');
    refuse(callId, refusal);
  }

  #liveCall(callId: string): CallSummary | undefined {
    return this.#router.queue().find((call) => call.callId === callId);
  }

  /** Sends each router event to the kiosk and guards it concerns. */
  #route(event: CallEvent): void {
    const info = this.#calls.get(event.kioskId);
    const kioskName = info?.kioskName ?? event.kioskId;
    const { callId, kioskId } = event;

    switch (event.type) {
      case 'ringing':
        this.#toGuard(event.guard, {
          type: 'ringing',
          callId,
          kioskId,
          kioskName,
          ringEndsAt: event.ringEndsAt,
          context: info?.context ?? null,
        });
        return;
      case 'ring-stopped':
        this.#toGuard(event.guard, {
          type: 'ring-stopped',
          callId,
          reason: event.reason,
          answeredBy: event.answeredBy,
        });
        return;
      case 'answered':
        return this.#answered(event, kioskName, info?.context ?? null);
      case 'missed':
        this.#toKiosk(kioskId, { type: 'missed', callId });
        for (const guard of info?.ringGroup ?? []) {
          this.#toGuard(guard, { type: 'missed', callId, kioskId, kioskName, at: event.at });
        }
        return;
      case 'ending-soon':
        this.#toKiosk(kioskId, { type: 'ending-soon', callId, endsAt: event.endsAt });
        this.#toGuard(event.guard, { type: 'ending-soon', callId, endsAt: event.endsAt });
        return;
      case 'denied':
        this.#toKiosk(kioskId, { type: 'denied', callId });
        return;
      case 'ended':
        this.#record('call end', () => this.#store.recordCallEnd(callId, event.at, event.reason));
        this.#toKiosk(kioskId, { type: 'ended', callId, reason: event.reason });
        if (event.guard)
          this.#toGuard(event.guard, { type: 'ended', callId, reason: event.reason });
        this.#calls.delete(kioskId);
        this.#broadcastQueue();
        return;
    }
  }

  /** Both ends get their own fresh TURN credentials; the guard also gets the kiosk's context. */
  #answered(
    event: Extract<CallEvent, { type: 'answered' }>,
    kioskName: string,
    context: CallContext | null,
  ): void {
    const { callId, kioskId, guard, endsAt } = event;
    const now = this.#now();
    this.#record('call answer', () => this.#store.recordCallAnswer(callId, guard, now));

    const kioskMedia = mediaConfigFor(this.#ice, `kiosk-${kioskId}`, now);
    this.#toKiosk(kioskId, { type: 'answered', callId, guard, endsAt, media: kioskMedia });

    const guardLabel = `guard-${this.#guards.onlineGuard(guard)?.id ?? guard}`;
    const guardMedia = mediaConfigFor(this.#ice, guardLabel, now);
    this.#toGuard(guard, {
      type: 'answered',
      callId,
      kioskId,
      kioskName,
      endsAt,
      context,
      media: guardMedia,
    });
    this.#broadcastQueue();
  }

  /** History is a record, not a step of the call: a failed write is logged and the call goes on. */
  #record(what: string, write: () => void): void {
    try {
      write();
    } catch (error) {
      log.error({ err: error }, `history: ${what} failed`);
    }
  }

  #broadcastQueue(): void {
    for (const guard of this.#guards.onlineGuards()) this.#sendQueue(guard);
  }

  /** A guard sees the live calls of the kiosks whose ring group they belong to. */
  #sendQueue(guard: string): void {
    const calls = this.#router
      .queue()
      .filter((call) => this.#calls.get(call.kioskId)?.ringGroup.has(guard))
      .map((call) => this.#queued(call));
    this.#toGuard(guard, { type: 'queue', calls });
  }

  #queued(call: CallSummary): QueuedCall {
    return {
      callId: call.callId,
      kioskId: call.kioskId,
      kioskName: this.#calls.get(call.kioskId)?.kioskName ?? call.kioskId,
      state: call.state,
      ringStartedAt: call.ringStartedAt,
      guard: call.guard,
    };
  }

  #toKiosk(kioskId: string, message: ServerToKioskMessage): boolean {
    return this.#kiosks.send(kioskId, message);
  }

  #toGuard(guard: string, message: ServerToGuardMessage): boolean {
    return this.#guards.send(guard, message);
  }
}

function refusedMessage(
  request: string,
  callId: string | null,
  refusal: Refusal,
): Extract<ServerToKioskMessage, { type: 'refused' }> {
  return {
    type: 'refused',
    request,
    callId,
    code: refusal.code satisfies CallRefusalCode,
    message: refusal.message,
  };
}
