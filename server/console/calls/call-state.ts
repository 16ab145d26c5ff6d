/**
 * What the console knows about calls, as a pure reducer over the server's messages and the
 * guard's own actions: the calls ringing for this guard (oldest first), the call this console
 * holds, calls another guard took ("answered by"), missed calls and the last ended call. The
 * server decides everything; this only remembers what it said, so a page can be drawn from it.
 */
import {
  callEndReasons,
  type CallContext,
  type CallRefusalCode,
  type MediaConfig,
  type QueuedCall,
  type ServerToGuardMessage,
} from '../../../app/contract/intercom-protocol.js';
import type { ConnectionState } from '../guard-socket.js';

/** Why a call ended: the server's reasons, or this console losing its connection. */
export type EndReason = (typeof callEndReasons)[number] | 'connection_lost';

/** A call ringing for this guard. */
export interface RingingCall {
  callId: string;
  kioskId: string;
  kioskName: string;
  /** Local epoch ms the ringing reached this console: waiting times use the local clock. */
  receivedAt: number;
  /** Server epoch ms the kiosk started ringing, once the queue has said; orders the queue. */
  ringStartedAt: number | null;
  context: CallContext | null;
}

/** A call that rang here and that another guard took; shown briefly. */
export interface AnsweredElsewhere {
  callId: string;
  kioskName: string;
  guard: string;
  /** Local epoch ms the notice disappears. */
  until: number;
}

/** The open button's progress: one click, nothing more until the server answered. */
export type OpenProgress = 'idle' | 'sending' | 'sent' | 'unconfirmed';

/** The call this guard holds. */
export interface ActiveCall {
  callId: string;
  kioskId: string;
  kioskName: string;
  /** Server epoch ms the maximum call time ends the call. */
  endsAt: number;
  /** Set once the server warned that the call ends soon. */
  endingSoon: boolean;
  context: CallContext | null;
  media: MediaConfig;
  /** False when another console of the same guard answered: this one carries no media. */
  here: boolean;
  open: OpenProgress;
  refusal: Refusal | null;
}

/** A refusal from the server: what was asked and why not. */
export interface Refusal {
  request: string;
  callId: string | null;
  code: CallRefusalCode;
}

/** A call of this guard's ring groups that nobody answered. */
export interface MissedCall {
  callId: string;
  kioskId: string;
  kioskName: string;
  /** Server epoch ms. */
  at: number;
}

/** How the call this console held ended. */
export interface EndedCall {
  callId: string;
  kioskName: string;
  reason: EndReason;
  /** The server confirmed an open in this call: the kiosk then hangs up by itself. */
  opened: boolean;
}

/** Everything the calls page draws. */
export interface CallState {
  guard: string | null;
  connection: ConnectionState;
  ringing: RingingCall[];
  /** The call this console asked to answer, until the server says yes or no. */
  answering: string | null;
  answeredElsewhere: AnsweredElsewhere[];
  active: ActiveCall | null;
  lastEnded: EndedCall | null;
  missed: MissedCall[];
  /** A refusal that is not about the active call (an answer that came too late). */
  refusal: Refusal | null;
  /** Code of the last error the server reported on the channel. */
  channelError: string | null;
  /** Grows whenever a call ends somewhere, so the history is fetched again. */
  historyVersion: number;
}

/** What changes the state. `at` is the local clock in epoch ms. */
export type CallAction =
  | { type: 'received'; message: ServerToGuardMessage; at: number }
  | { type: 'connection'; state: ConnectionState }
  | { type: 'answer'; callId: string }
  | { type: 'open' }
  /** The open went out but the server never confirmed it. */
  | { type: 'open-unconfirmed'; callId: string }
  | { type: 'tick'; at: number }
  | { type: 'dismiss' };

/** How long "answered by …" stays on screen. */
export const answeredElsewhereMs = 8000;

/** Missed calls kept in the list; the history holds the rest. */
const maxMissed = 50;

/** The state of a console that has not connected yet. */
export const initialCallState: CallState = {
  guard: null,
  connection: 'disconnected',
  ringing: [],
  answering: null,
  answeredElsewhere: [],
  active: null,
  lastEnded: null,
  missed: [],
  refusal: null,
  channelError: null,
  historyVersion: 0,
};

/** The next state after `action`. */
export function reduceCalls(state: CallState, action: CallAction): CallState {
  switch (action.type) {
    case 'received':
      return receive(state, action.message, action.at);
    case 'connection':
      return connectionChanged(state, action.state);
    case 'answer':
      return { ...state, answering: action.callId, refusal: null };
    case 'open':
      return updateActive(state, undefined, (call) => ({
        ...call,
        open: 'sending',
        refusal: null,
      }));
    case 'open-unconfirmed':
      return updateActive(state, action.callId, (call) =>
        call.open === 'sending' ? { ...call, open: 'unconfirmed' } : call,
      );
    case 'tick':
      return expireNotices(state, action.at);
    case 'dismiss':
      return { ...state, lastEnded: null, refusal: null, channelError: null };
  }
}

function receive(state: CallState, message: ServerToGuardMessage, at: number): CallState {
  switch (message.type) {
    case 'welcome':
      return { ...state, guard: message.guard, channelError: null };
    case 'ringing':
      return ringing(state, message, at);
    case 'ring-stopped':
      return ringStopped(state, message, at);
    case 'answered':
      return answered(state, message);
    case 'missed':
      return missed(state, message);
    case 'ending-soon':
      return updateActive(state, message.callId, (call) => ({
        ...call,
        endsAt: message.endsAt,
        endingSoon: true,
      }));
    case 'ended':
      return ended(state, message.callId, message.reason);
    case 'open-sent':
      return updateActive(state, message.callId, (call) => ({ ...call, open: 'sent' }));
    case 'queue':
      return queued(state, message.calls, at);
    case 'refused':
      return refused(state, message);
    case 'error':
      return { ...state, channelError: message.error.code };
    // Pongs stay in the socket; signals go to the media, not the page state.
    case 'pong':
    case 'signal':
      return state;
  }
}

type Message<T extends ServerToGuardMessage['type']> = Extract<ServerToGuardMessage, { type: T }>;

function ringing(state: CallState, message: Message<'ringing'>, at: number): CallState {
  const call: RingingCall = {
    callId: message.callId,
    kioskId: message.kioskId,
    kioskName: message.kioskName,
    receivedAt: at,
    ringStartedAt: null,
    context: message.context,
  };
  const others = state.ringing.filter((other) => other.callId !== call.callId);

  return { ...state, ringing: [...others, call] };
}

function ringStopped(state: CallState, message: Message<'ring-stopped'>, at: number): CallState {
  const call = state.ringing.find((ringing) => ringing.callId === message.callId);
  const next = {
    ...withoutRinging(state, message.callId),
    historyVersion: state.historyVersion + (message.reason === 'answered' ? 0 : 1),
  };
  const takenBy = message.answeredBy;
  if (!call || message.reason !== 'answered' || !takenBy || takenBy === state.guard) return next;

  return noteAnsweredElsewhere(next, call, takenBy, at);
}

function answered(state: CallState, message: Message<'answered'>): CallState {
  const here = state.answering === message.callId;
  const active: ActiveCall = {
    callId: message.callId,
    kioskId: message.kioskId,
    kioskName: message.kioskName,
    endsAt: message.endsAt,
    endingSoon: false,
    context: message.context,
    media: message.media,
    here,
    open: 'idle',
    refusal: null,
  };

  return {
    ...withoutRinging(state, message.callId),
    answering: null,
    active,
    lastEnded: null,
    refusal: null,
  };
}

function missed(state: CallState, message: Message<'missed'>): CallState {
  const entry: MissedCall = {
    callId: message.callId,
    kioskId: message.kioskId,
    kioskName: message.kioskName,
    at: message.at,
  };
  const others = state.missed.filter((call) => call.callId !== entry.callId);

  return {
    ...withoutRinging(state, message.callId),
    missed: [entry, ...others].slice(0, maxMissed),
    historyVersion: state.historyVersion + 1,
  };
}

function endedCall(call: ActiveCall, reason: EndReason): EndedCall {
  return { callId: call.callId, kioskName: call.kioskName, reason, opened: call.open === 'sent' };
}

function ended(state: CallState, callId: string, reason: EndReason): CallState {
  const next = { ...withoutRinging(state, callId), historyVersion: state.historyVersion + 1 };
  if (state.active?.callId !== callId) return next;

  return { ...next, active: null, lastEnded: endedCall(state.active, reason) };
}

/** The queue orders the ringing calls and shows which of them another guard took meanwhile. */
function queued(state: CallState, queue: QueuedCall[], at: number): CallState {
  const byId = new Map(queue.map((call) => [call.callId, call]));
  let next: CallState = state;

  for (const call of state.ringing) {
    const live = byId.get(call.callId);
    if (live?.state === 'ringing') continue;

    next = withoutRinging(next, call.callId);
    if (live?.guard && live.guard !== state.guard) {
      next = noteAnsweredElsewhere(next, call, live.guard, at);
    }
  }

  const ringingNow = next.ringing.map((call) => ({
    ...call,
    ringStartedAt: byId.get(call.callId)?.ringStartedAt ?? call.ringStartedAt,
  }));
  return { ...next, ringing: sortOldestFirst(ringingNow) };
}

function refused(state: CallState, message: Message<'refused'>): CallState {
  // A late ICE candidate for a call that just ended is refused; the guard need not hear of it.
  if (message.request === 'signal') return state;

  const refusal: Refusal = { request: message.request, callId: message.callId, code: message.code };
  const active = state.active;
  if (active && message.callId === active.callId) {
    const open = message.request === 'open' ? 'idle' : active.open;
    return { ...state, active: { ...active, open, refusal } };
  }

  // An answer refused (another guard was quicker) takes the call off this queue.
  const { request, callId } = message;
  const next = request === 'answer' && callId ? withoutRinging(state, callId) : state;
  const answering = state.answering === message.callId ? null : state.answering;
  return { ...next, answering, refusal };
}

// A lost connection ends what this console held: the server ends the call when it notices
// the guard left, and ringing resumes only for calls that start after the reconnect.
function connectionChanged(state: CallState, connection: ConnectionState): CallState {
  if (connection !== 'disconnected') return { ...state, connection };

  const lastEnded = state.active ? endedCall(state.active, 'connection_lost') : state.lastEnded;
  return { ...state, connection, ringing: [], answering: null, active: null, lastEnded };
}

function expireNotices(state: CallState, at: number): CallState {
  const kept = state.answeredElsewhere.filter((notice) => notice.until > at);
  if (kept.length === state.answeredElsewhere.length) return state;

  return { ...state, answeredElsewhere: kept };
}

function noteAnsweredElsewhere(
  state: CallState,
  call: RingingCall,
  guard: string,
  at: number,
): CallState {
  if (state.answeredElsewhere.some((notice) => notice.callId === call.callId)) return state;

  const notice: AnsweredElsewhere = {
    callId: call.callId,
    kioskName: call.kioskName,
    guard,
    until: at + answeredElsewhereMs,
  };
  return { ...state, answeredElsewhere: [...state.answeredElsewhere, notice] };
}

function withoutRinging(state: CallState, callId: string): CallState {
  if (!state.ringing.some((call) => call.callId === callId)) return state;

  return { ...state, ringing: state.ringing.filter((call) => call.callId !== callId) };
}

function updateActive(
  state: CallState,
  callId: string | undefined,
  update: (call: ActiveCall) => ActiveCall,
): CallState {
  const active = state.active;
  if (!active || (callId !== undefined && active.callId !== callId)) return state;

  return { ...state, active: update(active) };
}

function sortOldestFirst(calls: RingingCall[]): RingingCall[] {
  return [...calls].sort(
    (a, b) =>
      (a.ringStartedAt ?? Infinity) - (b.ringStartedAt ?? Infinity) || a.receivedAt - b.receivedAt,
  );
}
