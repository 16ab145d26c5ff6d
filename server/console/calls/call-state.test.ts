import { describe, expect, it } from 'vitest';
import type {
  CallContext,
  MediaConfig,
  ServerToGuardMessage,
} from '../../../app/contract/intercom-protocol.js';
import {
  answeredElsewhereMs,
  initialCallState,
  reduceCalls,
  type CallAction,
  type CallState,
} from './call-state.js';

const media: MediaConfig = { iceServers: [], iceTransportPolicy: 'all' };
const context: CallContext = {
  scan: { verdict: 'refused', reason: 'expired', maskedName: '王**', destination: '3-1202' },
  photoJpegBase64: null,
};

function received(message: ServerToGuardMessage, at = 1000): CallAction {
  return { type: 'received', message, at };
}

function ringing(callId: string, kioskName = `Kiosk ${callId}`): ServerToGuardMessage {
  return { type: 'ringing', callId, kioskId: `k-${callId}`, kioskName, ringEndsAt: 0, context };
}

function answered(callId: string): ServerToGuardMessage {
  return {
    type: 'answered',
    callId,
    kioskId: `k-${callId}`,
    kioskName: `Kiosk ${callId}`,
    endsAt: 500_000,
    context,
    media,
  };
}

function run(...actions: CallAction[]): CallState {
  const connected: CallAction[] = [
    { type: 'connection', state: 'connected' },
    received({ type: 'welcome', guard: 'li' }),
  ];
  return [...connected, ...actions].reduce(reduceCalls, initialCallState);
}

describe('reduceCalls', () => {
  it('remembers the guard the server welcomed and the connection', () => {
    const state = run();

    expect(state.guard).toBe('li');
    expect(state.connection).toBe('connected');
  });

  it('queues ringing calls and orders them by when the kiosk started ringing', () => {
    const state = run(
      received(ringing('b'), 1000),
      received(ringing('a'), 1001),
      received({
        type: 'queue',
        calls: [
          {
            callId: 'a',
            kioskId: 'k-a',
            kioskName: 'A',
            state: 'ringing',
            ringStartedAt: 5,
            guard: null,
          },
          {
            callId: 'b',
            kioskId: 'k-b',
            kioskName: 'B',
            state: 'ringing',
            ringStartedAt: 9,
            guard: null,
          },
        ],
      }),
    );

    expect(state.ringing.map((call) => call.callId)).toEqual(['a', 'b']);
    expect(state.ringing[0]).toMatchObject({ receivedAt: 1001, ringStartedAt: 5, context });
  });

  it('stops ringing when another guard answered and says who, for a while', () => {
    const state = run(
      received(ringing('a', 'North gate'), 1000),
      received({ type: 'ring-stopped', callId: 'a', reason: 'answered', answeredBy: 'wang' }, 2000),
    );

    expect(state.ringing).toEqual([]);
    expect(state.answeredElsewhere).toEqual([
      { callId: 'a', kioskName: 'North gate', guard: 'wang', until: 2000 + answeredElsewhereMs },
    ]);

    const later = reduceCalls(state, { type: 'tick', at: 2000 + answeredElsewhereMs });
    expect(later.answeredElsewhere).toEqual([]);
  });

  it('learns from the queue that another guard took a ringing call', () => {
    const state = run(
      received(ringing('a'), 1000),
      received(
        {
          type: 'queue',
          calls: [
            {
              callId: 'a',
              kioskId: 'k-a',
              kioskName: 'A',
              state: 'answered',
              ringStartedAt: 5,
              guard: 'wang',
            },
          ],
        },
        3000,
      ),
    );

    expect(state.ringing).toEqual([]);
    expect(state.answeredElsewhere.map((notice) => notice.guard)).toEqual(['wang']);
  });

  it('drops a ringing call the queue no longer lists, without an "answered by"', () => {
    const state = run(received(ringing('a')), received({ type: 'queue', calls: [] }));

    expect(state.ringing).toEqual([]);
    expect(state.answeredElsewhere).toEqual([]);
  });

  it('makes the answered call active here when this console asked for it', () => {
    const state = run(
      received(ringing('a')),
      { type: 'answer', callId: 'a' },
      received(answered('a')),
    );

    expect(state.ringing).toEqual([]);
    expect(state.answering).toBeNull();
    expect(state.active).toMatchObject({ callId: 'a', here: true, media, context, open: 'idle' });
  });

  it('marks a call answered on another console of the same guard as not here', () => {
    const state = run(received(ringing('a')), received(answered('a')));

    expect(state.active?.here).toBe(false);
  });

  it('disables open while it is in flight and shows when it was sent', () => {
    const answeredState = run({ type: 'answer', callId: 'a' }, received(answered('a')));
    const sending = reduceCalls(answeredState, { type: 'open' });
    const sent = reduceCalls(sending, received({ type: 'open-sent', callId: 'a' }));

    expect(sending.active?.open).toBe('sending');
    expect(sent.active?.open).toBe('sent');
  });

  it('marks an open the server never confirmed, and only while it is in flight', () => {
    const sending = run({ type: 'answer', callId: 'a' }, received(answered('a')), { type: 'open' });
    const unconfirmed = reduceCalls(sending, { type: 'open-unconfirmed', callId: 'a' });
    const sent = reduceCalls(sending, received({ type: 'open-sent', callId: 'a' }));

    expect(unconfirmed.active?.open).toBe('unconfirmed');
    expect(reduceCalls(sent, { type: 'open-unconfirmed', callId: 'a' }).active?.open).toBe('sent');
  });

  it('shows a refused open on the active call and lets the guard try again', () => {
    const state = run(
      { type: 'answer', callId: 'a' },
      received(answered('a')),
      { type: 'open' },
      received({
        type: 'refused',
        request: 'open',
        callId: 'a',
        code: 'not_call_holder',
        message: 'another guard holds the call',
      }),
    );

    expect(state.active?.open).toBe('idle');
    expect(state.active?.refusal).toEqual({
      request: 'open',
      callId: 'a',
      code: 'not_call_holder',
    });
  });

  it('takes a call off the queue when the answer came too late', () => {
    const state = run(
      received(ringing('a')),
      { type: 'answer', callId: 'a' },
      received({
        type: 'refused',
        request: 'answer',
        callId: 'a',
        code: 'already_answered',
        message: 'another guard answered',
      }),
    );

    expect(state.ringing).toEqual([]);
    expect(state.answering).toBeNull();
    expect(state.refusal?.code).toBe('already_answered');
  });

  it('ignores refused signals: a late ICE candidate after hang-up is no news', () => {
    const before = run();
    const after = reduceCalls(
      before,
      received({
        type: 'refused',
        request: 'signal',
        callId: 'a',
        code: 'call_not_found',
        message: 'no such live call',
      }),
    );

    expect(after).toBe(before);
  });

  it('warns before the maximum call time with the new end', () => {
    const state = run(
      { type: 'answer', callId: 'a' },
      received(answered('a')),
      received({ type: 'ending-soon', callId: 'a', endsAt: 490_000 }),
    );

    expect(state.active).toMatchObject({ endingSoon: true, endsAt: 490_000 });
  });

  it('ends the active call with its reason and asks for fresh history', () => {
    const active = run({ type: 'answer', callId: 'a' }, received(answered('a')));
    const state = reduceCalls(active, received({ type: 'ended', callId: 'a', reason: 'denied' }));

    expect(state.active).toBeNull();
    expect(state.lastEnded).toEqual({
      callId: 'a',
      kioskName: 'Kiosk a',
      reason: 'denied',
      opened: false,
    });
    expect(state.historyVersion).toBe(active.historyVersion + 1);
  });

  it('remembers that the gate was opened in a call the kiosk then hung up', () => {
    const state = run(
      { type: 'answer', callId: 'a' },
      received(answered('a')),
      { type: 'open' },
      received({ type: 'open-sent', callId: 'a' }),
      received({ type: 'ended', callId: 'a', reason: 'hung_up_by_kiosk' }),
    );

    expect(state.lastEnded).toMatchObject({ reason: 'hung_up_by_kiosk', opened: true });
  });

  it('lists missed calls newest first, once each', () => {
    const missed = (callId: string, at: number): ServerToGuardMessage => ({
      type: 'missed',
      callId,
      kioskId: 'k1',
      kioskName: 'North gate',
      at,
    });
    const state = run(
      received(ringing('a')),
      received(missed('a', 10)),
      received(missed('b', 20)),
      received(missed('a', 10)),
    );

    expect(state.ringing).toEqual([]);
    expect(state.missed.map((call) => call.callId)).toEqual(['a', 'b']);
    expect(state.historyVersion).toBe(3);
  });

  it('on losing the connection forgets the ringing and ends the held call', () => {
    const state = run(
      received(ringing('b')),
      { type: 'answer', callId: 'a' },
      received(answered('a')),
      { type: 'connection', state: 'disconnected' },
    );

    expect(state.ringing).toEqual([]);
    expect(state.active).toBeNull();
    expect(state.lastEnded?.reason).toBe('connection_lost');
  });

  it('keeps an error the server reported until dismissed', () => {
    const state = run(
      received({ type: 'error', error: { code: 'bad_payload', message: 'message is not JSON' } }),
    );

    expect(state.channelError).toBe('bad_payload');
    expect(reduceCalls(state, { type: 'dismiss' }).channelError).toBeNull();
  });
});
