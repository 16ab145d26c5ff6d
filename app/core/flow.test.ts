import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import type { ScanReport } from '../contract/api.js';
import type { MediaConfig } from '../contract/intercom-protocol.js';
import { ConfigSchema } from './config.js';
import {
  createFlowMachine,
  flowView,
  inCallGraceMs,
  type CallScan,
  type FlowActor,
  type FlowVerdict,
} from './flow.js';

const timeouts = ConfigSchema.parse({}).timeouts;
const start = Date.UTC(2025, 0, 1, 8, 0, 0);

const scan: ScanReport = { text: 'pass-text', bytesHex: '', charset: 'utf-8', source: 'camera' };

const acceptedVisit = (visitId = 'visit-1') => ({
  visitId,
  maskedName: '张*',
  hostUnit: '3-201',
  gateOpenUntil: start + 1000,
  entriesLeft: 0,
});
const acceptedVerdict = (visitId = 'visit-1'): FlowVerdict => ({
  accepted: true,
  visit: acceptedVisit(visitId),
});

/** A verifyScan whose answers the test hands out one at a time. */
function pendingVerifier() {
  const pending: Array<{
    scan: ScanReport;
    resolve(verdict: FlowVerdict): void;
    reject(error: Error): void;
  }> = [];
  const verifyScan = vi.fn(
    (scanned: ScanReport) =>
      new Promise<FlowVerdict>((resolve, reject) => {
        pending.push({ scan: scanned, resolve, reject });
      }),
  );

  return { pending, verifyScan };
}

let actor: FlowActor;
let verifier: ReturnType<typeof pendingVerifier>;
let attachPhoto: ReturnType<typeof vi.fn<(visitId: string, jpeg: Uint8Array) => void>>;
let placeCall: ReturnType<typeof vi.fn<(scan: CallScan | null) => void>>;
let releaseCall: ReturnType<typeof vi.fn<(callId: string, answered: boolean) => void>>;
const hangUpAfterOpenSeconds = 5;

const screen = () => flowView(actor.getSnapshot()).screen;
const view = () => flowView(actor.getSnapshot());
const settle = () => vi.advanceTimersByTimeAsync(0);

async function reachVerdict(verdict: FlowVerdict) {
  actor.send({ type: 'START_SCAN' });
  actor.send({ type: 'SCAN', scan });
  verifier.pending.at(-1)?.resolve(verdict);
  await settle();
}

beforeEach(() => {
  vi.useFakeTimers({ now: start });
  verifier = pendingVerifier();
  attachPhoto = vi.fn<(visitId: string, jpeg: Uint8Array) => void>();
  placeCall = vi.fn<(scan: CallScan | null) => void>();
  releaseCall = vi.fn<(callId: string, answered: boolean) => void>();
  const machine = createFlowMachine({
    verifyScan: verifier.verifyScan,
    attachPhoto,
    placeCall,
    releaseCall,
  });
  actor = createActor(machine, {
    input: { defaultLocale: 'zh-CN', timeouts, hangUpAfterOpenSeconds, now: () => Date.now() },
  });
  actor.start();
});

afterEach(() => {
  actor.stop();
  vi.useRealTimers();
});

describe('a code from a hardware scanner', () => {
  const scannerScan: ScanReport = { ...scan, source: 'scanner' };

  it('is checked straight from the idle screen, the privacy notice and a refusal', async () => {
    actor.send({ type: 'SCAN', scan: scannerScan });
    expect(screen()).toBe('verifying');
    verifier.pending.at(-1)?.resolve({ accepted: false, reason: 'expired' });
    await settle();
    expect(screen()).toBe('refused');

    actor.send({ type: 'SCAN', scan: scannerScan });
    expect(screen()).toBe('verifying');
    verifier.pending.at(-1)?.resolve({ accepted: false, reason: 'expired' });
    await settle();
    actor.send({ type: 'CANCEL' });
    actor.send({ type: 'SHOW_PRIVACY' });
    actor.send({ type: 'SCAN', scan: scannerScan });

    expect(screen()).toBe('verifying');
    expect(verifier.verifyScan).toHaveBeenCalledTimes(3);
  });

  it('is not taken from the camera outside scanning: the camera only reports while it scans', () => {
    actor.send({ type: 'SCAN', scan });

    expect(screen()).toBe('idle');
    expect(verifier.verifyScan).not.toHaveBeenCalled();
  });

  it('is dropped during a call, so a code scanned then cannot open the gate past the guard', () => {
    actor.send({ type: 'CALL', reachable: true });
    actor.send({ type: 'SCAN', scan: scannerScan });

    expect(screen()).toBe('calling');
    expect(verifier.verifyScan).not.toHaveBeenCalled();
  });
});

describe('the visit flow', () => {
  it('starts idle in the default locale with no deadline', () => {
    expect(view()).toEqual({
      screen: 'idle',
      locale: 'zh-CN',
      accepted: null,
      refusal: null,
      screenTimeoutAt: null,
      call: null,
    });
  });

  it('shows the scanning screen with a visible deadline when the visitor starts a scan', () => {
    actor.send({ type: 'START_SCAN' });

    expect(screen()).toBe('scanning');
    expect(view().screenTimeoutAt).toBe(start + timeouts.scanSeconds * 1000);
  });

  it('gives up scanning and returns to idle after the scan timeout', () => {
    actor.send({ type: 'START_SCAN' });

    vi.advanceTimersByTime(timeouts.scanSeconds * 1000 - 1);
    expect(screen()).toBe('scanning');

    vi.advanceTimersByTime(1);
    expect(screen()).toBe('idle');
  });

  it('restarts the scanning timeout when the visitor touches the screen', () => {
    actor.send({ type: 'START_SCAN' });
    vi.advanceTimersByTime(timeouts.scanSeconds * 1000 - 1000);

    actor.send({ type: 'TOUCH' });
    vi.advanceTimersByTime(2000);

    expect(screen()).toBe('scanning');
    expect(view().screenTimeoutAt).toBe(Date.now() - 2000 + timeouts.scanSeconds * 1000);
  });

  it('returns from the privacy notice to idle after its timeout or on cancel', () => {
    actor.send({ type: 'SHOW_PRIVACY' });
    expect(screen()).toBe('privacy');
    vi.advanceTimersByTime(timeouts.privacySeconds * 1000);
    expect(screen()).toBe('idle');

    actor.send({ type: 'SHOW_PRIVACY' });
    actor.send({ type: 'CANCEL' });
    expect(screen()).toBe('idle');
  });

  it('goes from the privacy notice straight to scanning', () => {
    actor.send({ type: 'SHOW_PRIVACY' });
    actor.send({ type: 'START_SCAN' });

    expect(screen()).toBe('scanning');
  });

  it('ignores a scan outside the scanning screen without verifying it', () => {
    actor.send({ type: 'SCAN', scan });
    actor.send({ type: 'SHOW_PRIVACY' });
    actor.send({ type: 'SCAN', scan });

    expect(screen()).toBe('privacy');
    expect(verifier.verifyScan).not.toHaveBeenCalled();
  });

  it('verifies one scan at a time and drops scans that arrive meanwhile', () => {
    actor.send({ type: 'START_SCAN' });
    actor.send({ type: 'SCAN', scan });
    actor.send({ type: 'SCAN', scan: { ...scan, text: 'second' } });

    expect(screen()).toBe('verifying');
    expect(verifier.verifyScan).toHaveBeenCalledTimes(1);
    expect(verifier.verifyScan).toHaveBeenCalledWith(scan);
  });

  it('shows the accepted screen with the visit and a wanted photo on a valid pass', async () => {
    await reachVerdict(acceptedVerdict());

    expect(screen()).toBe('accepted');
    expect(view().accepted).toEqual({ ...acceptedVisit(), photoWanted: true });
    expect(view().screenTimeoutAt).toBe(start + timeouts.acceptedSeconds * 1000);
  });

  it('shows the refusal reason when the pass is refused', async () => {
    await reachVerdict({ accepted: false, reason: 'expired' });

    expect(screen()).toBe('refused');
    expect(view().refusal).toBe('expired');
    expect(view().accepted).toBeNull();
  });

  it('returns from refused to idle after the refused timeout, clearing the reason', async () => {
    await reachVerdict({ accepted: false, reason: 'forged' });

    vi.advanceTimersByTime(timeouts.refusedSeconds * 1000);

    expect(screen()).toBe('idle');
    expect(view().refusal).toBeNull();
  });

  it('lets a refused visitor try again or go back', async () => {
    await reachVerdict({ accepted: false, reason: 'wrong_gate' });
    actor.send({ type: 'START_SCAN' });
    expect(screen()).toBe('scanning');

    actor.send({ type: 'SCAN', scan });
    verifier.pending.at(-1)?.resolve({ accepted: false, reason: 'wrong_gate' });
    await settle();
    actor.send({ type: 'CANCEL' });
    expect(screen()).toBe('idle');
  });

  it('returns from accepted to idle after the accepted timeout', async () => {
    await reachVerdict(acceptedVerdict());

    vi.advanceTimersByTime(timeouts.acceptedSeconds * 1000);

    expect(screen()).toBe('idle');
    expect(view().accepted).toBeNull();
  });

  it('gives up verifying after the verifying timeout and ignores the late verdict', async () => {
    actor.send({ type: 'START_SCAN' });
    actor.send({ type: 'SCAN', scan });

    vi.advanceTimersByTime(timeouts.verifyingSeconds * 1000);
    expect(screen()).toBe('idle');

    verifier.pending[0]?.resolve(acceptedVerdict());
    await settle();
    expect(screen()).toBe('idle');
  });

  it('refuses with gate_unavailable when the check itself fails', async () => {
    actor.send({ type: 'START_SCAN' });
    actor.send({ type: 'SCAN', scan });
    verifier.pending[0]?.reject(new Error('store is gone'));
    await settle();

    expect(screen()).toBe('refused');
    expect(view().refusal).toBe('gate_unavailable');
  });

  it('resets the locale to the default whenever the flow returns to idle', () => {
    actor.send({ type: 'SET_LOCALE', locale: 'en' });
    actor.send({ type: 'START_SCAN' });
    expect(view().locale).toBe('en');

    actor.send({ type: 'CANCEL' });

    expect(view().locale).toBe('zh-CN');
  });

  it('attaches one photo for the current accepted visit only', async () => {
    await reachVerdict(acceptedVerdict('visit-1'));
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff]);

    actor.send({ type: 'PHOTO', visitId: 'someone-else', jpeg });
    actor.send({ type: 'PHOTO', visitId: 'visit-1', jpeg });
    actor.send({ type: 'PHOTO', visitId: 'visit-1', jpeg });

    expect(attachPhoto).toHaveBeenCalledTimes(1);
    expect(attachPhoto).toHaveBeenCalledWith('visit-1', jpeg);
    expect(view().accepted?.photoWanted).toBe(false);
  });

  it('stops wanting a photo once the photo window has passed', async () => {
    await reachVerdict(acceptedVerdict('visit-1'));

    vi.advanceTimersByTime(timeouts.photoSeconds * 1000);
    actor.send({ type: 'PHOTO', visitId: 'visit-1', jpeg: new Uint8Array([0xff, 0xd8]) });

    expect(view().accepted?.photoWanted).toBe(false);
    expect(attachPhoto).not.toHaveBeenCalled();
  });

  it('refuses a photo when no visit is accepted', () => {
    actor.send({ type: 'PHOTO', visitId: 'visit-1', jpeg: new Uint8Array([0xff, 0xd8]) });

    expect(attachPhoto).not.toHaveBeenCalled();
    expect(screen()).toBe('idle');
  });

  it('turns accepted into refused when the gate fails for the current visit only', async () => {
    await reachVerdict(acceptedVerdict('visit-1'));

    actor.send({ type: 'GATE_FAILED', visitId: 'older-visit' });
    expect(screen()).toBe('accepted');

    actor.send({ type: 'GATE_FAILED', visitId: 'visit-1' });
    expect(screen()).toBe('refused');
    expect(view().refusal).toBe('gate_failed');
  });
});

const media: MediaConfig = {
  iceServers: [{ urls: ['stun:127.0.0.1:3478'] }],
  iceTransportPolicy: 'all',
};

/** Presses the call button with the server reachable and lets it ring as call `callId`. */
function ring(callId = 'call-1') {
  actor.send({ type: 'CALL', reachable: true });
  actor.send({ type: 'RINGING', callId, ringEndsAt: Date.now() + 30_000 });
}

/** Rings and has guard `anna` answer, for a call that ends 180 s from now. */
function answer(callId = 'call-1') {
  ring(callId);
  actor.send({ type: 'ANSWERED', callId, guard: 'anna', endsAt: Date.now() + 180_000, media });
}

describe('a call to the guards', () => {
  it('rings from idle when the server is reachable, with a visible deadline', () => {
    actor.send({ type: 'CALL', reachable: true });

    expect(screen()).toBe('calling');
    expect(placeCall).toHaveBeenCalledExactlyOnceWith(null);
    expect(view().call).toEqual({
      callId: null,
      guard: null,
      ringEndsAt: null,
      endsAt: null,
      endingSoon: false,
      endReason: null,
      media: null,
    });
    expect(view().screenTimeoutAt).toBe(start + timeouts.callingSeconds * 1000);
  });

  it('shows the fallback at once when the server is not reachable, placing no call', () => {
    actor.send({ type: 'CALL', reachable: false });

    expect(screen()).toBe('callMissed');
    expect(view().call?.callId).toBeNull();
    expect(placeCall).not.toHaveBeenCalled();
    expect(view().screenTimeoutAt).toBe(start + timeouts.callMissedSeconds * 1000);
  });

  it('starts a call from the privacy, scanning, accepted and refused screens but not while verifying', async () => {
    for (const reach of [
      () => Promise.resolve(actor.send({ type: 'SHOW_PRIVACY' })),
      () => Promise.resolve(actor.send({ type: 'START_SCAN' })),
      () => reachVerdict(acceptedVerdict()),
      () => reachVerdict({ accepted: false, reason: 'expired' }),
    ]) {
      actor.send({ type: 'CANCEL' });
      await reach();
      actor.send({ type: 'CALL', reachable: true });
      expect(screen()).toBe('calling');
      actor.send({ type: 'CANCEL' });
    }

    actor.send({ type: 'START_SCAN' });
    actor.send({ type: 'SCAN', scan });
    actor.send({ type: 'CALL', reachable: true });
    expect(screen()).toBe('verifying');
    expect(placeCall).toHaveBeenCalledTimes(4);
  });

  it('tells the guard what the last scan of this visit showed, even after a rescan', async () => {
    await reachVerdict({
      accepted: false,
      reason: 'expired',
      holder: { maskedName: '张*', hostUnit: '3-201' },
    });
    actor.send({ type: 'START_SCAN' });

    actor.send({ type: 'CALL', reachable: true });

    expect(placeCall).toHaveBeenCalledExactlyOnceWith({
      verdict: 'refused',
      reason: 'expired',
      maskedName: '张*',
      destination: '3-201',
    });
  });

  it('tells the guard about an accepted pass, and about nothing once the visit is over', async () => {
    await reachVerdict(acceptedVerdict());
    actor.send({ type: 'CALL', reachable: true });
    expect(placeCall).toHaveBeenLastCalledWith({
      verdict: 'accepted',
      reason: null,
      maskedName: '张*',
      destination: '3-201',
    });

    actor.send({ type: 'CANCEL' });
    actor.send({ type: 'CALL', reachable: true });
    expect(placeCall).toHaveBeenLastCalledWith(null);
  });

  it('shows the guard, the media settings and the end of the call once a guard answers', () => {
    ring('call-1');
    expect(view().call).toMatchObject({ callId: 'call-1', ringEndsAt: start + 30_000 });

    actor.send({
      type: 'ANSWERED',
      callId: 'call-1',
      guard: 'anna',
      endsAt: start + 180_000,
      media,
    });

    expect(screen()).toBe('inCall');
    expect(view().call).toMatchObject({
      callId: 'call-1',
      guard: 'anna',
      endsAt: start + 180_000,
      media,
    });
    expect(view().screenTimeoutAt).toBeNull();
  });

  it('hangs up a call answered that is not the one ringing, and keeps ringing', () => {
    ring('call-1');

    actor.send({ type: 'ANSWERED', callId: 'call-9', guard: 'ben', endsAt: start + 1000, media });

    expect(screen()).toBe('calling');
    expect(releaseCall).toHaveBeenCalledExactlyOnceWith('call-9', true);
  });

  it('cancels a ringing call on the server when the visitor cancels', () => {
    ring('call-1');

    actor.send({ type: 'HANG_UP' });

    expect(screen()).toBe('idle');
    expect(view().call).toBeNull();
    expect(releaseCall).toHaveBeenCalledExactlyOnceWith('call-1', false);
  });

  it('cancels a call the server names only after the visitor gave up', () => {
    actor.send({ type: 'CALL', reachable: true });
    actor.send({ type: 'CANCEL' });
    expect(releaseCall).not.toHaveBeenCalled();

    actor.send({ type: 'RINGING', callId: 'call-late', ringEndsAt: start + 30_000 });

    expect(screen()).toBe('idle');
    expect(releaseCall).toHaveBeenCalledExactlyOnceWith('call-late', false);
  });

  it('shows the fallback when nobody answers, then returns to idle without ending it twice', () => {
    ring('call-1');

    actor.send({ type: 'MISSED', callId: 'call-1' });
    actor.send({ type: 'ENDED', callId: 'call-1', reason: 'missed' });

    expect(screen()).toBe('callMissed');
    expect(view().call?.endReason).toBe('missed');
    vi.advanceTimersByTime(timeouts.callMissedSeconds * 1000);
    expect(screen()).toBe('idle');
    expect(releaseCall).not.toHaveBeenCalled();
  });

  it('shows the fallback when the server refuses to ring', () => {
    actor.send({ type: 'CALL', reachable: true });

    actor.send({ type: 'REFUSED', code: 'no_guards' });

    expect(screen()).toBe('callMissed');
  });

  it('gives up ringing a silent server after callingSeconds, cancelling the call', () => {
    ring('call-1');

    vi.advanceTimersByTime(timeouts.callingSeconds * 1000 - 1);
    expect(screen()).toBe('calling');
    vi.advanceTimersByTime(1);

    expect(screen()).toBe('callMissed');
    expect(releaseCall).toHaveBeenCalledExactlyOnceWith('call-1', false);
  });

  it('shows the fallback when the connection drops while ringing, and ends an answered call', () => {
    ring('call-1');
    actor.send({ type: 'DISCONNECTED' });
    expect(screen()).toBe('callMissed');

    actor.send({ type: 'CANCEL' });
    answer('call-2');
    actor.send({ type: 'DISCONNECTED' });

    expect(screen()).toBe('callEnded');
    expect(view().call?.endReason).toBe('kiosk_left');
    vi.advanceTimersByTime(timeouts.callEndedSeconds * 1000);
    expect(screen()).toBe('idle');
    expect(releaseCall).not.toHaveBeenCalled();
  });

  it('warns when the call is ending soon', () => {
    answer('call-1');

    actor.send({ type: 'ENDING_SOON', callId: 'call-1', endsAt: start + 5000 });

    expect(view().call).toMatchObject({ endingSoon: true, endsAt: start + 5000 });
  });

  it('hangs up once when the visitor hangs up, keeping that as the reason', () => {
    answer('call-1');

    actor.send({ type: 'HANG_UP' });
    actor.send({ type: 'ENDED', callId: 'call-1', reason: 'hung_up_by_kiosk' });

    expect(screen()).toBe('callEnded');
    expect(view().call?.endReason).toBe('hung_up_by_kiosk');
    vi.advanceTimersByTime(timeouts.callEndedSeconds * 1000);
    expect(screen()).toBe('idle');
    expect(releaseCall).toHaveBeenCalledExactlyOnceWith('call-1', true);
  });

  it('shows the end of the call when the guard hangs up or denies entry', () => {
    answer('call-1');
    actor.send({ type: 'ENDED', callId: 'call-1', reason: 'hung_up_by_guard' });
    expect(screen()).toBe('callEnded');
    expect(view().call?.endReason).toBe('hung_up_by_guard');

    actor.send({ type: 'CANCEL' });
    answer('call-2');
    actor.send({ type: 'DENIED', callId: 'call-2' });
    actor.send({ type: 'ENDED', callId: 'call-2', reason: 'denied' });
    expect(screen()).toBe('callEnded');
    expect(view().call?.endReason).toBe('denied');
    expect(releaseCall).not.toHaveBeenCalled();
  });

  it('ignores news of other calls while in a call', () => {
    answer('call-1');

    actor.send({ type: 'ENDED', callId: 'call-0', reason: 'hung_up_by_guard' });
    actor.send({ type: 'OPENED', callId: 'call-0' });

    expect(screen()).toBe('inCall');
  });

  it('shows the gate opened and hangs up hangUpAfterOpenSeconds later, once', () => {
    answer('call-1');

    actor.send({ type: 'OPENED', callId: 'call-1' });
    expect(screen()).toBe('callOpened');
    expect(view().screenTimeoutAt).toBe(start + timeouts.callOpenedSeconds * 1000);

    vi.advanceTimersByTime(hangUpAfterOpenSeconds * 1000 - 1);
    expect(releaseCall).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(releaseCall).toHaveBeenCalledExactlyOnceWith('call-1', true);
    expect(screen()).toBe('callOpened');

    vi.advanceTimersByTime(timeouts.callOpenedSeconds * 1000);
    expect(screen()).toBe('idle');
    expect(releaseCall).toHaveBeenCalledTimes(1);
  });

  it('goes back to idle from the opened, missed and ended screens on cancel', () => {
    answer('call-1');
    actor.send({ type: 'OPENED', callId: 'call-1' });
    actor.send({ type: 'CANCEL' });
    expect(screen()).toBe('idle');
    // Leaving before hangUpAfterOpenSeconds ends the call at once, and only once.
    expect(releaseCall).toHaveBeenCalledExactlyOnceWith('call-1', true);
    vi.advanceTimersByTime(hangUpAfterOpenSeconds * 1000);
    expect(releaseCall).toHaveBeenCalledOnce();

    actor.send({ type: 'CALL', reachable: false });
    expect(screen()).toBe('callMissed');
    actor.send({ type: 'CANCEL' });
    expect(screen()).toBe('idle');

    answer('call-2');
    actor.send({ type: 'ENDED', callId: 'call-2', reason: 'hung_up_by_guard' });
    expect(screen()).toBe('callEnded');
    actor.send({ type: 'CANCEL' });
    expect(screen()).toBe('idle');
    expect(view().call).toBeNull();
    expect(releaseCall).toHaveBeenCalledOnce();
  });

  it('ends an answered call itself when the server stays silent past its end', () => {
    answer('call-1');

    vi.advanceTimersByTime(180_000 + inCallGraceMs);

    expect(screen()).toBe('callEnded');
    expect(view().call?.endReason).toBe('max_call_time');
    expect(releaseCall).toHaveBeenCalledExactlyOnceWith('call-1', true);
  });

  it('keeps the fallback up while someone touches it, and rings again on a new press', () => {
    actor.send({ type: 'CALL', reachable: false });
    vi.advanceTimersByTime(timeouts.callMissedSeconds * 1000 - 1000);

    actor.send({ type: 'TOUCH' });
    vi.advanceTimersByTime(2000);
    expect(screen()).toBe('callMissed');

    actor.send({ type: 'CALL', reachable: true });
    expect(screen()).toBe('calling');
    expect(placeCall).toHaveBeenCalledOnce();
  });

  it('ignores a second press while a call is ringing or answered', () => {
    ring('call-1');
    actor.send({ type: 'CALL', reachable: true });
    expect(placeCall).toHaveBeenCalledOnce();

    actor.send({ type: 'ANSWERED', callId: 'call-1', guard: 'anna', endsAt: start + 1000, media });
    actor.send({ type: 'CALL', reachable: true });
    expect(screen()).toBe('inCall');
    expect(placeCall).toHaveBeenCalledOnce();
  });
});
