import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEntry } from '../app/core/ports.js';
import { createCallRouter, type CallEvent, type CallRouter } from './calls.js';

interface Setup {
  router: CallRouter;
  events: CallEvent[];
  audit: AuditEntry[];
}

const start = Date.UTC(2026, 0, 5, 9, 0, 0);

function setup(options: { emit?: (event: CallEvent) => void } = {}): Setup {
  const events: CallEvent[] = [];
  const audit: AuditEntry[] = [];
  let ids = 0;
  const router = createCallRouter({
    now: () => Date.now(),
    newCallId: () => `call-${++ids}`,
    emit: (event) => {
      events.push(event);
      options.emit?.(event);
    },
    audit: (entry) => audit.push(entry),
  });
  return { router, events, audit };
}

function ringing(events: CallEvent[]): string[] {
  return events.flatMap((event) => (event.type === 'ringing' ? [event.guard] : []));
}

function ofType<T extends CallEvent['type']>(events: CallEvent[], type: T) {
  return events.filter((event): event is Extract<CallEvent, { type: T }> => event.type === type);
}

function ringAndAnswer(s: Setup, guard = 'wang'): string {
  const rung = s.router.ring('north-gate', ['wang', 'li', 'zhao']);
  if (!rung.ok) throw new Error(`ring refused: ${rung.code}`);

  const answered = s.router.answer(rung.value, guard);
  if (!answered.ok) throw new Error(`answer refused: ${answered.code}`);

  return rung.value;
}

beforeEach(() => {
  vi.useFakeTimers({ now: start });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ringing', () => {
  it('rings every guard of the ring group at once and lists the call as ringing', () => {
    const s = setup();

    const rung = s.router.ring('north-gate', ['wang', 'li']);

    expect(rung).toEqual({ ok: true, value: 'call-1' });
    expect(ringing(s.events)).toEqual(['wang', 'li']);
    expect(ofType(s.events, 'ringing')[0]?.ringEndsAt).toBe(start + 30_000);
    expect(s.router.queue()).toMatchObject([
      { callId: 'call-1', kioskId: 'north-gate', state: 'ringing', ringing: ['wang', 'li'] },
    ]);
  });

  it('refuses a second call from a kiosk that already has one', () => {
    const s = setup();
    s.router.ring('north-gate', ['wang']);

    const again = s.router.ring('north-gate', ['wang']);

    expect(again).toMatchObject({ ok: false, code: 'kiosk_busy' });
    expect(s.router.queue()).toHaveLength(1);
  });

  it('refuses a call when nobody of the ring group can be rung', () => {
    const s = setup();

    expect(s.router.ring('north-gate', [])).toMatchObject({ ok: false, code: 'no_guards' });
    expect(s.events).toEqual([]);
  });

  it('queues calls from several kiosks in the order they started ringing', () => {
    const s = setup();
    s.router.ring('south-gate', ['wang']);
    vi.advanceTimersByTime(1_000);
    s.router.ring('north-gate', ['wang']);
    s.router.ring('east-gate', ['li']);

    const queue = s.router.queue();

    expect(queue.map((call) => call.kioskId)).toEqual(['south-gate', 'north-gate', 'east-gate']);
    expect(queue.map((call) => call.ringStartedAt)).toEqual([start, start + 1_000, start + 1_000]);
  });
});

describe('answering', () => {
  it('gives the call to the first guard and stops the others ringing, naming who answered', () => {
    const s = setup();

    const callId = ringAndAnswer(s, 'li');

    expect(ofType(s.events, 'answered')).toEqual([
      { type: 'answered', callId, kioskId: 'north-gate', guard: 'li', endsAt: start + 180_000 },
    ]);
    const stopped = ofType(s.events, 'ring-stopped');
    expect(stopped.map((event) => event.guard)).toEqual(['wang', 'zhao']);
    expect(stopped.every((event) => event.answeredBy === 'li' && event.reason === 'answered')).toBe(
      true,
    );
    expect(s.router.callOf('north-gate')).toMatchObject({ state: 'answered', guard: 'li' });
    expect(s.audit.map((entry) => [entry.action, entry.actor])).toContainEqual([
      'call.answer',
      'guard:li',
    ]);
  });

  it('refuses a second answer and leaves the call with the first guard', () => {
    const s = setup();
    const callId = ringAndAnswer(s, 'wang');

    const second = s.router.answer(callId, 'li');

    expect(second).toMatchObject({ ok: false, code: 'already_answered' });
    expect(s.router.callOf('north-gate')?.guard).toBe('wang');
    expect(ofType(s.events, 'answered')).toHaveLength(1);
  });

  it('refuses an answer from a guard who was not rung', () => {
    const s = setup();
    s.router.ring('north-gate', ['wang']);

    expect(s.router.answer('call-1', 'stranger')).toMatchObject({
      ok: false,
      code: 'not_in_ring_group',
    });
    expect(s.router.callOf('north-gate')?.state).toBe('ringing');
  });

  it('refuses an answer from a member of the ring group who came online after the ring', () => {
    const s = setup();
    s.router.ring('north-gate', ['wang'], ['wang', 'li']);

    expect(s.router.answer('call-1', 'li')).toMatchObject({ code: 'not_in_ring_group' });
    expect(s.router.answer('call-1', 'wang')).toMatchObject({ ok: true });
  });

  it('refuses an answer to a call that does not exist', () => {
    const s = setup();

    expect(s.router.answer('call-404', 'wang')).toMatchObject({
      ok: false,
      code: 'call_not_found',
    });
  });
});

describe('timeouts', () => {
  it('turns a call nobody answers within the ring timeout into a missed call', () => {
    const s = setup();
    s.router.ring('north-gate', ['wang', 'li']);

    vi.advanceTimersByTime(29_999);
    expect(ofType(s.events, 'missed')).toEqual([]);

    vi.advanceTimersByTime(1);
    expect(ofType(s.events, 'missed')).toEqual([
      { type: 'missed', callId: 'call-1', kioskId: 'north-gate', at: start + 30_000 },
    ]);
    expect(ofType(s.events, 'ring-stopped').map((event) => [event.guard, event.reason])).toEqual([
      ['wang', 'missed'],
      ['li', 'missed'],
    ]);
    expect(ofType(s.events, 'ended')).toMatchObject([{ reason: 'missed', guard: null }]);
    expect(s.audit.filter((entry) => entry.action === 'call.miss')).toHaveLength(1);
    expect(s.router.queue()).toEqual([]);
  });

  it('warns ten seconds before the maximum call time and then ends the call', () => {
    const s = setup();
    const callId = ringAndAnswer(s);

    vi.advanceTimersByTime(169_999);
    expect(ofType(s.events, 'ending-soon')).toEqual([]);

    vi.advanceTimersByTime(1);
    expect(ofType(s.events, 'ending-soon')).toEqual([
      {
        type: 'ending-soon',
        callId,
        kioskId: 'north-gate',
        guard: 'wang',
        endsAt: start + 180_000,
      },
    ]);
    expect(ofType(s.events, 'ended')).toEqual([]);

    vi.advanceTimersByTime(10_000);
    expect(ofType(s.events, 'ended')).toMatchObject([{ callId, reason: 'max_call_time' }]);
  });

  it('does not miss a call that was answered before the ring timeout', () => {
    const s = setup();
    ringAndAnswer(s);

    vi.advanceTimersByTime(60_000);

    expect(ofType(s.events, 'missed')).toEqual([]);
    expect(s.router.callOf('north-gate')?.state).toBe('answered');
  });
});

describe('opening the gate', () => {
  it('issues an open command naming the call, guard and kiosk to the guard holding the call', () => {
    const s = setup();
    const callId = ringAndAnswer(s, 'wang');
    vi.advanceTimersByTime(2_000);

    const open = s.router.requestOpen(callId, 'wang');

    expect(open).toMatchObject({
      ok: true,
      value: { callId, guard: 'wang', kioskId: 'north-gate', issuedAt: start + 2_000 },
    });
    expect(open.ok && open.value.nonce.length).toBeGreaterThanOrEqual(16);
    expect(s.audit.filter((entry) => entry.action === 'call.open')).toMatchObject([
      { actor: 'guard:wang', detail: { callId, nonce: open.ok && open.value.nonce } },
    ]);
  });

  it('issues one open per call and refuses and audits every further one, however late', () => {
    const s = setup();
    const callId = ringAndAnswer(s, 'wang');
    s.router.requestOpen(callId, 'wang');
    vi.advanceTimersByTime(60_000);

    const again = s.router.requestOpen(callId, 'wang');

    expect(again).toMatchObject({ ok: false, code: 'already_opened' });
    expect(s.audit.filter((entry) => entry.action.startsWith('call.open'))).toMatchObject([
      { action: 'call.open' },
      {
        action: 'call.open_refused',
        actor: 'guard:wang',
        detail: { callId, kioskId: 'north-gate', code: 'already_opened' },
      },
    ]);
    expect(s.router.callOf('north-gate')?.state).toBe('answered');
  });

  it('refuses to open for a guard who does not hold the call, and audits the refusal', () => {
    const s = setup();
    const callId = ringAndAnswer(s, 'wang');

    const refused = s.router.requestOpen(callId, 'li');

    expect(refused).toMatchObject({ ok: false, code: 'not_call_holder' });
    expect(s.audit.at(-1)).toMatchObject({
      action: 'call.open_refused',
      actor: 'guard:li',
      detail: { callId, kioskId: 'north-gate', code: 'not_call_holder' },
    });
  });

  it('answers a guard outside the ring group not_in_ring_group, ringing, answered or ended', () => {
    const s = setup();
    s.router.ring('north-gate', ['wang'], ['wang', 'li']);
    const attempts = () => [
      s.router.answer('call-1', 'carl'),
      s.router.requestOpen('call-1', 'carl'),
      s.router.deny('call-1', 'carl'),
      s.router.hangUp('call-1', { guard: 'carl' }),
      s.router.heldCall('call-1', 'carl'),
    ];
    const codes = () => attempts().map((result) => (result.ok ? 'ok' : result.code));

    const whileRinging = codes();
    s.router.answer('call-1', 'wang');
    const whileAnswered = codes();
    s.router.hangUp('call-1', { guard: 'wang' });
    const afterEnd = codes();

    for (const seen of [whileRinging, whileAnswered, afterEnd]) {
      expect(seen).toEqual(Array(5).fill('not_in_ring_group'));
    }
    expect(s.router.requestOpen('call-1', 'li')).toMatchObject({ code: 'call_ended' });
    expect(s.audit.filter((entry) => entry.action === 'call.open')).toEqual([]);
  });

  it('refuses to open while the call is still ringing, after it ended, or for no call', () => {
    const s = setup();
    s.router.ring('north-gate', ['wang']);

    expect(s.router.requestOpen('call-1', 'wang')).toMatchObject({ code: 'not_answered' });

    s.router.answer('call-1', 'wang');
    s.router.hangUp('call-1', { guard: 'wang' });
    expect(s.router.requestOpen('call-1', 'wang')).toMatchObject({ code: 'call_ended' });
    expect(s.router.requestOpen('call-9', 'wang')).toMatchObject({ code: 'call_not_found' });
    expect(s.audit.filter((entry) => entry.action === 'call.open')).toEqual([]);
  });

  it('records a deny, tells the kiosk and ends the call', () => {
    const s = setup();
    const callId = ringAndAnswer(s, 'wang');

    expect(s.router.deny(callId, 'li')).toMatchObject({ ok: false, code: 'not_call_holder' });
    expect(s.router.deny(callId, 'wang')).toEqual({ ok: true, value: undefined });

    expect(ofType(s.events, 'denied')).toMatchObject([{ callId, guard: 'wang' }]);
    expect(ofType(s.events, 'ended')).toMatchObject([{ callId, reason: 'denied' }]);
    expect(s.audit.map((entry) => entry.action)).toEqual([
      'call.ring',
      'call.answer',
      'call.deny',
      'call.end',
    ]);
  });
});

describe('ending calls', () => {
  it('lets the kiosk cancel its ringing call, which stops every guard ringing and the timer', () => {
    const s = setup();
    s.router.ring('north-gate', ['wang', 'li']);

    expect(s.router.cancel('call-1', 'north-gate')).toEqual({ ok: true, value: undefined });
    vi.advanceTimersByTime(60_000);

    expect(ofType(s.events, 'ring-stopped').map((event) => event.reason)).toEqual([
      'cancelled',
      'cancelled',
    ]);
    expect(ofType(s.events, 'ended')).toMatchObject([{ reason: 'cancelled' }]);
    expect(ofType(s.events, 'missed')).toEqual([]);
  });

  it('refuses a cancel or hang-up from a kiosk the call does not belong to', () => {
    const s = setup();
    s.router.ring('north-gate', ['wang']);

    expect(s.router.cancel('call-1', 'south-gate')).toMatchObject({ code: 'wrong_kiosk' });
    expect(s.router.hangUp('call-1', { kioskId: 'south-gate' })).toMatchObject({
      code: 'wrong_kiosk',
    });
    expect(s.router.callOf('north-gate')?.state).toBe('ringing');
  });

  it('ends an answered call when the guard holding it hangs up, not when another guard does', () => {
    const s = setup();
    const callId = ringAndAnswer(s, 'wang');

    expect(s.router.hangUp(callId, { guard: 'li' })).toMatchObject({ code: 'not_call_holder' });
    expect(s.router.hangUp(callId, { guard: 'wang' })).toMatchObject({ ok: true });

    expect(ofType(s.events, 'ended')).toMatchObject([
      { callId, guard: 'wang', reason: 'hung_up_by_guard' },
    ]);
    expect(s.router.hangUp(callId, { guard: 'wang' })).toMatchObject({ code: 'call_ended' });
  });

  it('stops ringing a guard who leaves and ends the call held by a guard who leaves', () => {
    const s = setup();
    s.router.ring('north-gate', ['wang', 'li']);
    s.router.ring('south-gate', ['wang']);
    s.router.answer('call-2', 'wang');

    s.router.guardLeft('wang');

    expect(s.router.callOf('north-gate')?.ringing).toEqual(['li']);
    expect(s.router.callOf('south-gate')).toBeUndefined();
    expect(ofType(s.events, 'ended')).toMatchObject([{ callId: 'call-2', reason: 'guard_left' }]);
  });

  it('ends the call of a kiosk that disconnects', () => {
    const s = setup();
    s.router.ring('north-gate', ['wang']);

    s.router.kioskLeft('north-gate');

    expect(ofType(s.events, 'ended')).toMatchObject([{ reason: 'kiosk_left' }]);
    expect(ofType(s.events, 'ring-stopped')).toMatchObject([
      { guard: 'wang', reason: 'kiosk_left' },
    ]);
  });

  it('keeps routing when the event listener throws', () => {
    const s = setup({
      emit: () => {
        throw new Error('socket gone');
      },
    });

    const callId = ringAndAnswer(s, 'wang');

    expect(s.router.callOf('north-gate')).toMatchObject({ callId, guard: 'wang' });
    expect(s.router.requestOpen(callId, 'wang')).toMatchObject({ ok: true });
  });
});
