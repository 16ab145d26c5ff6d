import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { screens, type KioskView } from '../../contract/api.js';
import { callEndReasons } from '../../contract/intercom-protocol.js';
import { sampleView } from '../../contract/testing/sample-view.js';
import { ScreenFor } from '../App.js';
import { noCallMedia } from '../call/use-call-media.js';
import { initI18n } from '../i18n/index.js';
import en from '../i18n/en.json';
import { KioskContext, type KioskActions } from '../kiosk-context.js';

// The screens rendered to HTML, as the page would first paint them: effects (camera, media) do
// not run here, so this checks what each screen shows for a view, not the media.

const actions: KioskActions = {
  api: { invoke: () => Promise.reject(new Error('not in this test')), on: () => () => undefined },
  send: () => undefined,
};

const ringingCall: NonNullable<KioskView['call']> = {
  callId: 'call-1',
  guard: null,
  ringEndsAt: Date.now() + 30_000,
  endsAt: null,
  endingSoon: false,
  endReason: null,
  media: null,
};

function render(overrides: Partial<KioskView>, callMedia = noCallMedia): HTMLish {
  const view = sampleView({ locale: 'en', ...overrides });
  const html = renderToStaticMarkup(
    createElement(KioskContext, { value: actions }, createElement(ScreenFor, { view, callMedia })),
  );
  return new HTMLish(html);
}

/** Just enough querying of rendered HTML for these checks, without a DOM. */
class HTMLish {
  constructor(readonly html: string) {}

  has(testId: string): boolean {
    return this.html.includes(`data-testid="${testId}"`);
  }

  /** The opening tag of the element with `testId`. */
  tag(testId: string): string {
    return new RegExp(`<[^>]*data-testid="${testId}"[^>]*>`).exec(this.html)?.[0] ?? '';
  }
}

beforeAll(async () => {
  await initI18n().changeLanguage('en');
});

describe('ScreenFor', () => {
  it.each(screens)('renders %s with its name on the root element', (screen) => {
    const { html } = render({ screen, call: ringingCall });

    expect(html).toMatch(new RegExp(`^<main[^>]*data-screen="${screen}"`));
  });
});

describe('the call button', () => {
  it('is on the idle and refused screens and enabled when a guard can be reached', () => {
    for (const screen of ['idle', 'refused'] as const) {
      const page = render({ screen, callAvailable: true });

      expect(page.has('call-guard')).toBe(true);
      expect(page.tag('call-guard')).not.toContain('disabled');
      expect(page.has('call-unavailable')).toBe(false);
    }
  });

  it('is disabled with the reason and the fallback when no guard can be reached', () => {
    const page = render({ screen: 'idle', callAvailable: false, callFallback: 'Ring 010-1234' });

    expect(page.tag('call-guard')).toContain('disabled');
    expect(page.html).toContain(en.call.unavailable);
    expect(page.html).toContain('Ring 010-1234');
  });
});

describe('the call screens', () => {
  const fallback = 'Ring the office: 010-5555';

  it('calling: shows the gate, the seconds left to ring and a cancel button', () => {
    const page = render({ screen: 'calling', call: ringingCall, gateName: 'North gate' });

    expect(page.html).toContain('From: North gate');
    expect(page.html).toMatch(/Waiting up to (30|29) s/);
    expect(page.has('call-cancel')).toBe(true);
  });

  it('inCall: an avatar until the guard picture comes, an unmuted video and a hang-up button', () => {
    const call = { ...ringingCall, guard: 'Li Wei', endsAt: Date.now() + 180_000 };
    const page = render({ screen: 'inCall', call });

    expect(page.has('guard-avatar')).toBe(true);
    expect(page.tag('guard-video')).toMatch(/^<video/);
    expect(page.tag('guard-video')).not.toContain('muted');
    expect(page.html).toContain(en.inCall.talking);
    // The guard's login name is for the guard room, never shown to the visitor.
    expect(page.html).not.toContain('Li Wei');
    expect(page.has('call-hangup')).toBe(true);
    expect(page.has('call-ending-soon')).toBe(false);
  });

  it('inCall: warns when the call is about to reach its time limit', () => {
    const call = { ...ringingCall, endingSoon: true, endsAt: Date.now() + 9_500 };
    const page = render({ screen: 'inCall', call });

    expect(page.tag('call-ending-soon')).toBeTruthy();
    expect(page.html).toContain('The call ends in 10 s');
  });

  it('callOpened: tells the visitor to go through', () => {
    const page = render({ screen: 'callOpened', call: ringingCall });

    expect(page.html).toContain(en.callOpened.goThrough);
    expect(page.has('guard-video')).toBe(false);
  });

  it('callOpened: keeps playing the guard while the call is still up', () => {
    const remoteStream = {} as MediaStream;
    const page = render(
      { screen: 'callOpened', call: ringingCall },
      { ...noCallMedia, remoteStream },
    );

    expect(page.tag('guard-video')).toMatch(/^<video/);
    expect(page.tag('guard-video')).not.toContain('muted');
  });

  it('callMissed: shows the fallback prominently', () => {
    const page = render({ screen: 'callMissed', callFallback: 'Call the office: 010-5555' });

    expect(page.html).toMatch(/data-testid="call-fallback"[^>]*>Call the office: 010-5555</);
  });

  it('callMissed: still says where to get help when no fallback is configured', () => {
    const page = render({ screen: 'callMissed', callFallback: '' });

    expect(page.html).toContain(en.callMissed.noFallback);
  });

  it.each(callEndReasons)('callEnded: says why the call ended (%s)', (endReason) => {
    const page = render({ screen: 'callEnded', call: { ...ringingCall, endReason } });

    expect(page.html).toContain(`data-end-reason="${endReason}"`);
    expect(page.html).toContain(en.callEndReason[endReason]);
  });

  it('callEnded: tells a denied visitor the gate stays closed and offers a new call, not the fallback', () => {
    const call = { ...ringingCall, endReason: 'denied' as const };
    const page = render({ screen: 'callEnded', call, callFallback: fallback });

    expect(page.html).toContain(en.callEnded.deniedTitle);
    expect(page.html).toContain('The guard did not open the gate.');
    expect(page.html).toContain(en.callEnded.deniedNext);
    expect(page.tag('call-guard')).not.toContain('disabled');
    expect(page.has('cancel')).toBe(true);
    expect(page.html).not.toContain(fallback);
  });

  it.each(['denied', 'hung_up_by_guard', 'hung_up_by_kiosk', 'max_call_time'] as const)(
    'callEnded: shows no fallback after a guard or the visitor ended the call (%s)',
    (endReason) => {
      const call = { ...ringingCall, endReason };
      const page = render({ screen: 'callEnded', call, callFallback: fallback });

      expect(page.has('call-ended-fallback')).toBe(false);
      expect(page.html).not.toContain(fallback);
      expect(page.has('call-guard')).toBe(true);
    },
  );

  it('callEnded: shows the fallback once the connection to the guard was lost', () => {
    const call = { ...ringingCall, endReason: 'guard_left' as const };
    const page = render({ screen: 'callEnded', call, callFallback: fallback });

    expect(page.html).toMatch(
      /data-testid="call-ended-fallback"[^>]*>[^<]*Ring the office: 010-5555</,
    );
    expect(page.tag('call-guard')).not.toContain('disabled');
  });

  it('callEnded: shows the fallback once, beside the disabled button, when the kiosk lost the server', () => {
    const call = { ...ringingCall, endReason: 'kiosk_left' as const };
    const page = render({
      screen: 'callEnded',
      call,
      callAvailable: false,
      callFallback: fallback,
    });

    expect(page.tag('call-guard')).toContain('disabled');
    expect(page.html.split(fallback)).toHaveLength(2);
  });
});
