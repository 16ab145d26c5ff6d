import { describe, expect, it } from 'vitest';
import type { KioskView } from '../../contract/api.js';
import { sampleView } from '../../contract/testing/sample-view.js';
import { mediaCallOf } from './use-call-media.js';

const answered: NonNullable<KioskView['call']> = {
  callId: 'call-1',
  guard: 'anna',
  ringEndsAt: null,
  endsAt: Date.now() + 180_000,
  endingSoon: false,
  endReason: null,
  media: { iceServers: [{ urls: ['stun:127.0.0.1:3478'] }], iceTransportPolicy: 'all' },
};

const viewOf = (screen: KioskView['screen'], call: KioskView['call'] = answered) =>
  sampleView({ screen, call });

describe('mediaCallOf', () => {
  it('keeps the same call from the in-call screen to the opened screen, so media does not restart', () => {
    const talking = mediaCallOf(viewOf('inCall'));
    const opened = mediaCallOf(viewOf('callOpened', { ...answered, endingSoon: true }));

    expect(talking).toEqual({ callId: 'call-1', mediaJson: JSON.stringify(answered.media) });
    expect(opened).toEqual(talking);
  });

  it('runs no media on any other screen', () => {
    const others = (['idle', 'calling', 'callMissed', 'callEnded', 'refused'] as const).map(
      (screen) => mediaCallOf(viewOf(screen)),
    );

    expect(others).toEqual([null, null, null, null, null]);
    expect(mediaCallOf(null)).toBeNull();
  });

  it('stops once the call has ended, or before it has an id and ICE settings', () => {
    expect(mediaCallOf(viewOf('callOpened', { ...answered, endReason: 'hung_up_by_kiosk' }))).toBe(
      null,
    );
    expect(mediaCallOf(viewOf('inCall', { ...answered, media: null }))).toBeNull();
    expect(mediaCallOf(viewOf('inCall', { ...answered, callId: null }))).toBeNull();
    expect(mediaCallOf(viewOf('inCall', null))).toBeNull();
  });

  it('restarts for a new call or new ICE settings', () => {
    const first = mediaCallOf(viewOf('inCall'));
    const relayOnly = mediaCallOf(
      viewOf('inCall', { ...answered, media: { iceServers: [], iceTransportPolicy: 'relay' } }),
    );
    const next = mediaCallOf(viewOf('inCall', { ...answered, callId: 'call-2' }));

    expect(relayOnly).not.toEqual(first);
    expect(next).not.toEqual(first);
  });
});
