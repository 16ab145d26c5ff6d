/**
 * The visit flow: one visitor's passage through the kiosk as an xstate machine. Its states are the
 * screens of the contract, every waiting state gives up after a timeout from the configuration,
 * and it does no I/O itself: checking a scan and storing a photo are callbacks the kiosk provides,
 * so the machine runs unchanged under fake timers in tests.
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
import type { KioskConfig } from './config.js';
import { moduleLogger } from './log.js';

const log = moduleLogger('flow');

/** What the accepted screen may show about the pass holder. */
export type AcceptedVisit = NonNullable<KioskView['accepted']>;

/** The outcome of checking one scan, as the kiosk reports it back to the flow. */
export type FlowVerdict =
  | { accepted: true; visit: Omit<AcceptedVisit, 'photoWanted'> }
  | { accepted: false; reason: RefusalReason };

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
  | { type: 'GATE_FAILED'; visitId: string };

export type FlowTimeouts = KioskConfig['timeouts'];

/** What the machine starts from: the defaults it returns to and a clock for visible deadlines. */
export interface FlowInput {
  defaultLocale: Locale;
  timeouts: FlowTimeouts;
  now: () => number;
}

/** The work the flow hands out; the kiosk binds these to passes, the store and the gate. */
export interface FlowCallbacks {
  /** Checks a scan and, when valid, commits the visit and opens the gate. Should not reject. */
  verifyScan(scan: ScanReport): Promise<FlowVerdict>;
  /** Stores the visitor's photo with an accepted visit. */
  attachPhoto(visitId: string, jpeg: Uint8Array): void;
}

interface FlowContext extends FlowInput {
  locale: Locale;
  accepted: AcceptedVisit | null;
  refusal: RefusalReason | null;
  screenTimeoutAt: number | null;
}

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
      })),
      clearOutcome: assign({ accepted: null, refusal: null }),
      stampDeadline: assign(({ context }, params: { timeout: TimeoutName }) => ({
        screenTimeoutAt: context.now() + context.timeouts[params.timeout] * 1000,
      })),
      setLocale: assign(({ event }) => {
        assertEvent(event, 'SET_LOCALE');
        return { locale: event.locale };
      }),
      recordVerdict: assign(({ event }) => {
        assertEvent(event, 'VERDICT');
        if (event.verdict.accepted)
          return { accepted: { ...event.verdict.visit, photoWanted: true }, refusal: null };

        return { accepted: null, refusal: event.verdict.reason };
      }),
      recordGateFailure: assign({ accepted: null, refusal: 'gate_unavailable' as const }),
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
    },
    guards: {
      isAccepted: ({ event }) => event.type === 'VERDICT' && event.verdict.accepted,
      isCurrentVisit: ({ context, event }) =>
        (event.type === 'PHOTO' || event.type === 'GATE_FAILED') &&
        context.accepted?.visitId === event.visitId,
      isPhotoWanted: ({ context, event }) =>
        event.type === 'PHOTO' &&
        context.accepted?.visitId === event.visitId &&
        context.accepted.photoWanted,
    },
    delays: {
      privacyTimeout: ({ context }) => context.timeouts.privacySeconds * 1000,
      scanTimeout: ({ context }) => context.timeouts.scanSeconds * 1000,
      verifyingTimeout: ({ context }) => context.timeouts.verifyingSeconds * 1000,
      acceptedTimeout: ({ context }) => context.timeouts.acceptedSeconds * 1000,
      photoTimeout: ({ context }) => context.timeouts.photoSeconds * 1000,
      refusedTimeout: ({ context }) => context.timeouts.refusedSeconds * 1000,
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
    }),
    // Handlers here apply only where a state does not handle the event itself.
    on: {
      SET_LOCALE: { actions: 'setLocale' },
      SCAN: { actions: 'ignoreScan' },
      PHOTO: { actions: 'refusePhoto' },
    },
    states: {
      idle: {
        entry: 'resetVisit',
        on: {
          START_SCAN: 'scanning',
          SHOW_PRIVACY: 'privacy',
        },
      },
      privacy: {
        entry: ['clearOutcome', { type: 'stampDeadline', params: { timeout: 'privacySeconds' } }],
        after: { privacyTimeout: 'idle' },
        on: {
          // A touch means someone is still reading: start the timeout again.
          TOUCH: { target: 'privacy', reenter: true },
          START_SCAN: 'scanning',
          CANCEL: 'idle',
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
          SHOW_PRIVACY: 'privacy',
          CANCEL: 'idle',
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
  'screen' | 'locale' | 'accepted' | 'refusal' | 'screenTimeoutAt'
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
  };
}
