import { createElement } from 'react';
import { beforeAll, describe, expect, it } from 'vitest';
import en from '../i18n/en.json';
import { render, startEnglish } from '../testing/markup.js';
import { initialCallState, type EndedCall } from './call-state.js';
import { CallNotices } from './CallNotices.js';

function notice(lastEnded: EndedCall) {
  const calls = { ...initialCallState, lastEnded };
  return render(createElement(CallNotices, { calls, onDismiss: () => undefined }));
}

const kioskHungUp: EndedCall = {
  callId: 'c1',
  kioskName: 'North gate',
  reason: 'hung_up_by_kiosk',
  opened: false,
};

beforeAll(() => {
  startEnglish();
});

describe('the ended call notice', () => {
  it('says the gate was opened when the kiosk hung up by itself after an open', () => {
    const markup = notice({ ...kioskHungUp, opened: true });

    expect(markup.html).toContain(en.calls.endedAfterOpen);
    expect(markup.html).not.toContain(en.endReason.hung_up_by_kiosk);
  });

  it('says the visitor hung up when no open was sent', () => {
    const markup = notice(kioskHungUp);

    expect(markup.html).toContain(en.endReason.hung_up_by_kiosk);
    expect(markup.html).not.toContain(en.calls.endedAfterOpen);
  });
});
