/**
 * The visit flow: one visitor's passage through the kiosk as an xstate machine. Its states are the
 * screens of the contract, every waiting state gives up after a timeout from the configuration,
 * and it does no I/O itself: checking a scan, storing a photo and talking to the intercom server
 * are callbacks the kiosk provides, so the machine runs unchanged under fake timers in tests.
 */
import {
  assertEvent,
  assign,
  fromCallback,
  setup,
  type ActorRefFrom,
  type SnapshotFrom,
} from 'xstate';
import type { KioskView, Locale, RefusalReason, ScanReport } from '../contract/api.js';
import type {
  CallContext,
  CallRefusalCode,
  MediaConfig,
  callEndReasons,
} from '../contract/intercom-protocol.js';
import type { KioskConfig } from './config.js';
import { moduleLogger } from './log.js';

const log = moduleLogger('flow');

/** What the accepted screen may show about the pass holder. */
export type AcceptedVisit = NonNullable<KioskView['accepted']>;

/** The outcome of checking one scan, as the kiosk reports it back to the flow. */
export type FlowVerdict =
  | { accepted: true; visit: Omit<AcceptedVisit, 'photoWanted'> }
  | {
      accepted: false;
      reason: RefusalReason;
      /** What a refused but genuine pass says about its holder, for the guard if they call. */
      holder?: { maskedName: string; hostUnit: string } | null;
    };

/** The call part of the view: what the screen knows of the call to the guards. */
export type CallView = NonNullable<KioskView['call']>;

/** The last scan of this visit, as the guard sees it beside the video. */
export type CallScan = NonNullable<CallContext['scan']>;

export type CallEndReason = (typeof callEndReasons)[number];

export type FlowEvent =
  | { type: 'TOUCH' }
  | { type: 'START_SCAN' }
  | { type: 'SHOW_PRIVACY' }
  | { type: 'CANCEL' }
  | { type: 'SCAN'; scan: ScanReport }
  | { type: 'VERDICT'; verdict: FlowVerdict }
  | { type: 'PHOTO'; visitId: string; jpeg: Uint8Array }
  | { type: 'SET_LOCALE'; locale: Locale }
  /** The relay failed after the visit was committed: the barrier did not open after all. */
  | { type: 'GATE_FAILED'; visitId: string }
  /** The visitor asked for a guard; `reachable` says whether the intercom server is connected. */
  | { type: 'CALL'; reachable: boolean }
  /** The visitor ends the call: cancels while it rings, hangs up once answered. */
  | { type: 'HANG_UP' }
  | CallServerEvent;

/** What the intercom server (or the loss of it) tells the flow about a call. */
export type CallServerEvent =
  | { type: 'RINGING'; callId: string; ringEndsAt: number }
  | { type: 'ANSWERED'; callId: string; guard: string; endsAt: number; media: MediaConfig }
  | { type: 'ENDING_SOON'; callId: string; endsAt: number }
  /** The core's remote opener opened the gate for the guard holding this call. */
  | { type: 'OPENED'; callId: string }
  | { type: 'MISSED'; callId: string }
  | { type: 'DENIED'; callId: string }
  | { type: 'ENDED'; callId: string; reason: CallEndReason }
  /** The server would not ring (nobody online, a call already live): show the fallback. */
  | { type: 'REFUSED'; code: CallRefusalCode }
  /** The control connection dropped. */
  | { type: 'DISCONNECTED' };

export type FlowTimeouts = KioskConfig['timeouts'];

/** What the machine starts from: the defaults it returns to and a clock for visible deadlines. */
export interface FlowInput {
  defaultLocale: Locale;
  timeouts: FlowTimeouts;
  /** The kiosk ends an answered call this long after the gate opened for it. */
  hangUpAfterOpenSeconds: number;
  now: () => number;
}

/**
 * How long an answered call may outlive its announced end before the kiosk ends it itself: the
 * server ends it at `endsAt`, so this only matters when the server has gone silent.
 */
export const inCallGraceMs = 15_000;

/** The work the flow hands out; the kiosk binds these to passes, the store and the gate. */
export interface FlowCallbacks {
  /** Checks a scan and, when valid, commits the visit and opens the gate. Should not reject. */
  verifyScan(scan: ScanReport): Promise<FlowVerdict>;
  /** Stores the visitor's photo with an accepted visit. */
  attachPhoto(visitId: string, jpeg: Uint8Array): void;
  /** Asks the intercom server to ring the guards, with what this visit's scan showed. */
  placeCall(scan: CallScan | null): void;
  /** Ends a call on the server: `cancel` while it rings, `hangup` once answered. */
  releaseCall(callId: string, answered: boolean): void;
}

interface FlowContext extends FlowInput {
  locale: Locale;
  accepted: AcceptedVisit | null;
  refusal: RefusalReason | null;
  screenTimeoutAt: number | null;
  /** The last verdict of this visit, kept through rescans until the visit returns to idle. */
  lastScan: CallScan | null;
  call: CallView | null;
  /** The kiosk already asked the server to end the current call. */
  callReleased: boolean;
}

const newCall: CallView = {
  callId: null,
  guard: null,
  ringEndsAt: null,
  endsAt: null,
  endingSoon: false,
  endReason: null,
  media: null,
};

/** A code from a hardware scanner where the visitor has not yet chosen the camera: check it. */
function scannedFromDevice() {
  return { guard: 'isScannerScan' as const, target: 'verifying' as const };
}

/**
 * A press of the call button where a call may start: ring when the server is reachable, else show
 * the fallback at once. A call the kiosk still had open is ended first.
 */
function callPressed() {
  return [
    {
      guard: 'isReachable' as const,
      target: 'calling',
      reenter: true,
      actions: ['releaseCall' as const, 'markReleased' as const],
    },
    {
      target: 'callMissed',
      reenter: true,
      actions: ['releaseCall' as const, 'markReleased' as const, 'beginCall' as const],
    },
  ];
}

/** Events that name a call; the flow acts on them only for the call it is in. */
type CallIdEvent = Extract<FlowEvent, { callId: string }>;

const namesCall = (event: FlowEvent): event is CallIdEvent => 'callId' in event;

type TimeoutName = keyof FlowTimeouts;

/** Builds the visit flow machine around the kiosk's callbacks. */
export function createFlowMachine(callbacks: FlowCallbacks) {
  return setup({
    types: {
      context: {} as FlowContext,
      events: {} as FlowEvent,
      input: {} as FlowInput,
    },
    actors: {
      verifyScan: verifyScanActor(callbacks),
    },
    actions: {
      resetVisit: assign(({ context }) => ({
        locale: context.defaultLocale,
        accepted: null,
        refusal: null,
        screenTimeoutAt: null,
        lastScan: null,
        call: null,
        callReleased: false,
      })),
      clearOutcome: assign({ accepted: null, refusal: null }),
      stampDeadline: assign(({ context }, params: { timeout: TimeoutName }) => ({
        screenTimeoutAt: context.now() + context.timeouts[params.timeout] * 1000,
      })),
      clearDeadline: assign({ screenTimeoutAt: null }),
      setLocale: assign(({ event }) => {
        assertEvent(event, 'SET_LOCALE');
        return { locale: event.locale };
      }),
      recordVerdict: assign(({ event }) => {
        assertEvent(event, 'VERDICT');
        const verdict = event.verdict;
        if (verdict.accepted) {
          return {
            accepted: { ...verdict.visit, photoWanted: true },
            refusal: null,
            lastScan: acceptedScan(verdict.visit),
          };
        }

        return { accepted: null, refusal: verdict.reason, lastScan: refusedScan(verdict) };
      }),
      recordGateFailure: assign({ accepted: null, refusal: 'gate_failed' as const }),
      closePhotoWindow: assign(({ context }) => ({
        accepted: context.accepted && { ...context.accepted, photoWanted: false },
      })),
      attachPhoto: ({ event }) => {
        assertEvent(event, 'PHOTO');
        callbacks.attachPhoto(event.visitId, event.jpeg);
      },
      refusePhoto: ({ context, event }) => {
        assertEvent(event, 'PHOTO');
        const current = context.accepted?.visitId ?? null;
        log.warn(
          { visitId: event.visitId, current },
          'photo refused: no photo is wanted for that visit now',
        );
      },
      ignoreScan: ({ self }) => {
        log.info({ state: self.getSnapshot().value }, 'scan ignored: the kiosk is not scanning');
      },
      dropScan: () => {
        log.info('scan dropped: another scan is being verified');
      },
      beginCall: assign({ call: newCall, callReleased: false }),
      placeCall: ({ context }) => callbacks.placeCall(context.lastScan),
      recordRinging: assign(({ context, event }) => {
        assertEvent(event, 'RINGING');
        return { call: { ...callOf(context), callId: event.callId, ringEndsAt: event.ringEndsAt } };
      }),
      recordAnswer: assign(({ context, event }) => {
        assertEvent(event, 'ANSWERED');
        const { callId, guard, endsAt, media } = event;
        return { call: { ...callOf(context), callId, guard, endsAt, media } };
      }),
      recordEndingSoon: assign(({ context, event }) => {
        assertEvent(event, 'ENDING_SOON');
        return { call: { ...callOf(context), endsAt: event.endsAt, endingSoon: true } };
      }),
      // The first reason wins: `denied` and `missed` come before the server's own `ended`.
      recordEnd: assign(({ context }, params: { reason: CallEndReason }) => ({
        call: endedCall(context, params.reason),
      })),
      recordServerEnd: assign(({ context, event }) => {
        assertEvent(event, 'ENDED');
        return { call: endedCall(context, event.reason) };
      }),
      // Runs before markReleased wherever the kiosk itself ends a call.
      releaseCall: ({ context }) => {
        const callId = liveCallId(context);
        if (callId !== null) callbacks.releaseCall(callId, context.call?.guard != null);
      },
      markReleased: assign(({ context }) => ({
        callReleased: context.callReleased || liveCallId(context) !== null,
      })),
      // A call the flow is not in (the visitor cancelled before the server named it, or a guard
      // answered as it gave up) must not ring or stay open with nobody at the kiosk.
      releaseStrayCall: ({ event }) => {
        if (event.type !== 'RINGING' && event.type !== 'ANSWERED') return;

        log.warn(
          { callId: event.callId, type: event.type },
          'call: not the current call, ending it',
        );
        callbacks.releaseCall(event.callId, event.type === 'ANSWERED');
      },
      ignoreCallEvent: ({ event, self }) => {
        const callId = namesCall(event) ? event.callId : null;
        log.info(
          { type: event.type, callId, state: self.getSnapshot().value },
          'call: event ignored in this state',
        );
      },
    },
    guards: {
      isAccepted: ({ event }) => event.type === 'VERDICT' && event.verdict.accepted,
      // A hardware scanner needs no "scan" touch first: its code is the visitor's first act.
      isScannerScan: ({ event }) => event.type === 'SCAN' && event.scan.source === 'scanner',
      isCurrentVisit: ({ context, event }) =>
        (event.type === 'PHOTO' || event.type === 'GATE_FAILED') &&
        context.accepted?.visitId === event.visitId,
      isPhotoWanted: ({ context, event }) =>
        event.type === 'PHOTO' &&
        context.accepted?.visitId === event.visitId &&
        context.accepted.photoWanted,
      isReachable: ({ event }) => event.type === 'CALL' && event.reachable,
      isThisCall: ({ context, event }) => namesCall(event) && context.call?.callId === event.callId,
      // The server names the call in `ringing`; until then, the first call it names is ours.
      isThisOrUnnamedCall: ({ context, event }) =>
        namesCall(event) &&
        context.call !== null &&
        (context.call.callId === null || context.call.callId === event.callId),
      isMissedEnd: ({ context, event }) =>
        event.type === 'ENDED' &&
        event.reason === 'missed' &&
        context.call?.callId === event.callId,
      isUnnamedCall: ({ context }) => context.call?.callId === null,
    },
    delays: {
      privacyTimeout: ({ context }) => context.timeouts.privacySeconds * 1000,
      scanTimeout: ({ context }) => context.timeouts.scanSeconds * 1000,
      verifyingTimeout: ({ context }) => context.timeouts.verifyingSeconds * 1000,
      acceptedTimeout: ({ context }) => context.timeouts.acceptedSeconds * 1000,
      photoTimeout: ({ context }) => context.timeouts.photoSeconds * 1000,
      refusedTimeout: ({ context }) => context.timeouts.refusedSeconds * 1000,
      callingTimeout: ({ context }) => context.timeouts.callingSeconds * 1000,
      inCallTimeout: ({ context }) =>
        Math.max(0, (context.call?.endsAt ?? context.now()) - context.now()) + inCallGraceMs,
      callOpenedTimeout: ({ context }) => context.timeouts.callOpenedSeconds * 1000,
      hangUpAfterOpen: ({ context }) => context.hangUpAfterOpenSeconds * 1000,
      callMissedTimeout: ({ context }) => context.timeouts.callMissedSeconds * 1000,
      callEndedTimeout: ({ context }) => context.timeouts.callEndedSeconds * 1000,
    },
  }).createMachine({
    id: 'visit',
    initial: 'idle',
    context: ({ input }) => ({
      ...input,
      locale: input.defaultLocale,
      accepted: null,
      refusal: null,
      screenTimeoutAt: null,
      lastScan: null,
      call: null,
      callReleased: false,
    }),
    // Handlers here apply only where a state does not handle the event (or its guard fails).
    on: {
      SET_LOCALE: { actions: 'setLocale' },
      SCAN: { actions: 'ignoreScan' },
      PHOTO: { actions: 'refusePhoto' },
      RINGING: { actions: 'releaseStrayCall' },
      ANSWERED: { actions: 'releaseStrayCall' },
      CALL: { actions: 'ignoreCallEvent' },
      HANG_UP: { actions: 'ignoreCallEvent' },
      ENDING_SOON: { actions: 'ignoreCallEvent' },
      OPENED: { actions: 'ignoreCallEvent' },
      MISSED: { actions: 'ignoreCallEvent' },
      DENIED: { actions: 'ignoreCallEvent' },
      ENDED: { actions: 'ignoreCallEvent' },
      REFUSED: { actions: 'ignoreCallEvent' },
    },
    states: {
      idle: {
        // Whatever way the flow comes back, a call still open on the server is ended first.
        entry: ['releaseCall', 'markReleased', 'resetVisit'],
        on: {
          START_SCAN: 'scanning',
          SHOW_PRIVACY: 'privacy',
          SCAN: scannedFromDevice(),
          CALL: callPressed(),
        },
      },
      privacy: {
        entry: ['clearOutcome', { type: 'stampDeadline', params: { timeout: 'privacySeconds' } }],
        after: { privacyTimeout: 'idle' },
        on: {
          // A touch means someone is still reading: start the timeout again.
          TOUCH: { target: 'privacy', reenter: true },
          START_SCAN: 'scanning',
          SCAN: scannedFromDevice(),
          CANCEL: 'idle',
          CALL: callPressed(),
        },
      },
      scanning: {
        entry: ['clearOutcome', { type: 'stampDeadline', params: { timeout: 'scanSeconds' } }],
        after: { scanTimeout: 'idle' },
        on: {
          TOUCH: { target: 'scanning', reenter: true },
          SCAN: 'verifying',
          SHOW_PRIVACY: 'privacy',
          CANCEL: 'idle',
          CALL: callPressed(),
        },
      },
      verifying: {
        entry: ['clearOutcome', { type: 'stampDeadline', params: { timeout: 'verifyingSeconds' } }],
        invoke: {
          src: 'verifyScan',
          input: ({ event }) => {
            assertEvent(event, 'SCAN');
            return event.scan;
          },
        },
        after: { verifyingTimeout: 'idle' },
        on: {
          // One scan at a time: a code still in view must not open the gate twice.
          SCAN: { actions: 'dropScan' },
          VERDICT: [
            { guard: 'isAccepted', target: 'accepted', actions: 'recordVerdict' },
            { target: 'refused', actions: 'recordVerdict' },
          ],
        },
      },
      accepted: {
        entry: { type: 'stampDeadline', params: { timeout: 'acceptedSeconds' } },
        after: {
          acceptedTimeout: 'idle',
          photoTimeout: { actions: 'closePhotoWindow' },
        },
        on: {
          PHOTO: [
            { guard: 'isPhotoWanted', actions: ['attachPhoto', 'closePhotoWindow'] },
            { actions: 'refusePhoto' },
          ],
          GATE_FAILED: { guard: 'isCurrentVisit', target: 'refused', actions: 'recordGateFailure' },
          CALL: callPressed(),
        },
      },
      // A refused visitor rescans with "try again"; left alone, the kiosk goes back to idle, so a
      // wrong code still held up is not refused (and recorded) again every few seconds.
      refused: {
        entry: { type: 'stampDeadline', params: { timeout: 'refusedSeconds' } },
        after: { refusedTimeout: 'idle' },
        on: {
          TOUCH: { target: 'refused', reenter: true },
          START_SCAN: 'scanning',
          SCAN: scannedFromDevice(),
          SHOW_PRIVACY: 'privacy',
          CANCEL: 'idle',
          CALL: callPressed(),
        },
      },
      calling: {
        entry: [
          'clearOutcome',
          'beginCall',
          { type: 'stampDeadline', params: { timeout: 'callingSeconds' } },
          'placeCall',
        ],
        // The server misses the call itself at ringEndsAt; this is for a server gone silent.
        after: {
          callingTimeout: { target: 'callMissed', actions: ['releaseCall', 'markReleased'] },
        },
        on: {
          RINGING: { guard: 'isThisOrUnnamedCall', actions: 'recordRinging' },
          ANSWERED: { guard: 'isThisOrUnnamedCall', target: 'inCall', actions: 'recordAnswer' },
          MISSED: {
            guard: 'isThisCall',
            target: 'callMissed',
            actions: { type: 'recordEnd', params: { reason: 'missed' } },
          },
          ENDED: [
            { guard: 'isMissedEnd', target: 'callMissed', actions: 'recordServerEnd' },
            { guard: 'isThisCall', target: 'callEnded', actions: 'recordServerEnd' },
          ],
          REFUSED: { guard: 'isUnnamedCall', target: 'callMissed' },
          // Without the server there is nobody to ring: the fallback is what helps now.
          DISCONNECTED: {
            target: 'callMissed',
            actions: { type: 'recordEnd', params: { reason: 'kiosk_left' } },
          },
          CANCEL: 'idle',
          HANG_UP: 'idle',
        },
      },
      inCall: {
        entry: 'clearDeadline',
        after: {
          inCallTimeout: {
            target: 'callEnded',
            actions: [
              'releaseCall',
              'markReleased',
              { type: 'recordEnd', params: { reason: 'max_call_time' } },
            ],
          },
        },
        on: {
          ENDING_SOON: { guard: 'isThisCall', actions: 'recordEndingSoon' },
          OPENED: { guard: 'isThisCall', target: 'callOpened' },
          DENIED: {
            guard: 'isThisCall',
            target: 'callEnded',
            actions: { type: 'recordEnd', params: { reason: 'denied' } },
          },
          ENDED: { guard: 'isThisCall', target: 'callEnded', actions: 'recordServerEnd' },
          DISCONNECTED: {
            target: 'callEnded',
            actions: { type: 'recordEnd', params: { reason: 'kiosk_left' } },
          },
          HANG_UP: {
            target: 'callEnded',
            actions: [
              'releaseCall',
              'markReleased',
              { type: 'recordEnd', params: { reason: 'hung_up_by_kiosk' } },
            ],
          },
          CANCEL: {
            target: 'callEnded',
            actions: [
              'releaseCall',
              'markReleased',
              { type: 'recordEnd', params: { reason: 'hung_up_by_kiosk' } },
            ],
          },
        },
      },
      // The guard may still say goodbye while the visitor walks through; the kiosk hangs up soon.
      callOpened: {
        entry: { type: 'stampDeadline', params: { timeout: 'callOpenedSeconds' } },
        after: {
          callOpenedTimeout: 'idle',
          hangUpAfterOpen: { actions: ['releaseCall', 'markReleased'] },
        },
        on: {
          ENDING_SOON: { guard: 'isThisCall', actions: 'recordEndingSoon' },
          // The opener refuses a second open for the same call; should one arrive, nothing changes.
          OPENED: { guard: 'isThisCall' },
          DENIED: {
            guard: 'isThisCall',
            actions: { type: 'recordEnd', params: { reason: 'denied' } },
          },
          ENDED: { guard: 'isThisCall', actions: 'recordServerEnd' },
          DISCONNECTED: { actions: { type: 'recordEnd', params: { reason: 'kiosk_left' } } },
          HANG_UP: { actions: ['releaseCall', 'markReleased'] },
          CANCEL: 'idle',
        },
      },
      callMissed: {
        entry: { type: 'stampDeadline', params: { timeout: 'callMissedSeconds' } },
        after: { callMissedTimeout: 'idle' },
        on: {
          // Someone is still copying down the phone number.
          TOUCH: { target: 'callMissed', reenter: true },
          CANCEL: 'idle',
          CALL: callPressed(),
          MISSED: {
            guard: 'isThisCall',
            actions: { type: 'recordEnd', params: { reason: 'missed' } },
          },
          ENDED: { guard: 'isThisCall', actions: 'recordServerEnd' },
        },
      },
      callEnded: {
        entry: { type: 'stampDeadline', params: { timeout: 'callEndedSeconds' } },
        after: { callEndedTimeout: 'idle' },
        on: {
          TOUCH: { target: 'callEnded', reenter: true },
          CANCEL: 'idle',
          CALL: callPressed(),
          DENIED: {
            guard: 'isThisCall',
            actions: { type: 'recordEnd', params: { reason: 'denied' } },
          },
          ENDED: { guard: 'isThisCall', actions: 'recordServerEnd' },
        },
      },
    },
  });
}

/** Wraps the kiosk's check in an actor that answers with VERDICT unless the flow moved on. */
function verifyScanActor(callbacks: FlowCallbacks) {
  return fromCallback<FlowEvent, ScanReport>(({ input, sendBack }) => {
    let live = true;

    callbacks.verifyScan(input).then(
      (verdict) => {
        if (live) sendBack({ type: 'VERDICT', verdict });
        else log.warn({ accepted: verdict.accepted }, 'verdict arrived after the flow moved on');
      },
      (error: unknown) => {
        log.error({ err: error }, 'verify failed unexpectedly');
        if (live)
          sendBack({ type: 'VERDICT', verdict: { accepted: false, reason: 'gate_unavailable' } });
      },
    );

    return () => {
      live = false;
    };
  });
}

export type FlowMachine = ReturnType<typeof createFlowMachine>;
export type FlowActor = ActorRefFrom<FlowMachine>;
export type FlowSnapshot = SnapshotFrom<FlowMachine>;

/** The part of the kiosk view that the flow decides. */
export type FlowView = Pick<
  KioskView,
  'screen' | 'locale' | 'accepted' | 'refusal' | 'screenTimeoutAt' | 'call'
>;

/** Projects a flow snapshot onto the screen's view. */
export function flowView(snapshot: FlowSnapshot): FlowView {
  const { context } = snapshot;

  return {
    screen: snapshot.value,
    locale: context.locale,
    accepted: context.accepted,
    refusal: context.refusal,
    screenTimeoutAt: context.screenTimeoutAt,
    call: context.call,
  };
}

/** The id of a call the server still has open and the kiosk has not ended yet, else null. */
function liveCallId(context: FlowContext): string | null {
  const call = context.call;
  if (!call?.callId || call.endReason !== null || context.callReleased) return null;

  return call.callId;
}

function endedCall(context: FlowContext, reason: CallEndReason): CallView {
  const call = callOf(context);
  return { ...call, endReason: call.endReason ?? reason };
}

/** The current call, or a fresh one for an event that arrived before the flow began one. */
function callOf(context: FlowContext): CallView {
  return context.call ?? newCall;
}

function acceptedScan(visit: Omit<AcceptedVisit, 'photoWanted'>): CallScan {
  return {
    verdict: 'accepted',
    reason: null,
    maskedName: visit.maskedName,
    destination: visit.hostUnit,
  };
}

function refusedScan(verdict: Extract<FlowVerdict, { accepted: false }>): CallScan {
  return {
    verdict: 'refused',
    reason: verdict.reason,
    maskedName: verdict.holder?.maskedName ?? null,
    destination: verdict.holder?.hostUnit ?? null,
  };
}
