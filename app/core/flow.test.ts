import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import type { ScanReport } from '../contract/api.js';
import { ConfigSchema } from './config.js';
import { createFlowMachine, flowView, type FlowActor, type FlowVerdict } from './flow.js';

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
  const machine = createFlowMachine({ verifyScan: verifier.verifyScan, attachPhoto });
  actor = createActor(machine, {
    input: { defaultLocale: 'zh-CN', timeouts, now: () => Date.now() },
  });
  actor.start();
});

afterEach(() => {
  actor.stop();
  vi.useRealTimers();
});

describe('the visit flow', () => {
  it('starts idle in the default locale with no deadline', () => {
    expect(view()).toEqual({
      screen: 'idle',
      locale: 'zh-CN',
      accepted: null,
      refusal: null,
      screenTimeoutAt: null,
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
    expect(view().refusal).toBe('gate_unavailable');
  });
});
