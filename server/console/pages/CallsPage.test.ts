import { createElement } from 'react';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConsoleApi } from '../api.js';
import { initialCallState } from '../calls/call-state.js';
import type { ConsoleSnapshot, ConsoleStore } from '../console-store.js';
import en from '../i18n/en.json';
import { render, startEnglish } from '../testing/markup.js';
import { CallsPage } from './CallsPage.js';

const api = { calls: vi.fn(() => new Promise(() => undefined)) } as unknown as ConsoleApi;
const store = { setShareCamera: vi.fn() } as unknown as ConsoleStore;

function page(shareCamera: boolean) {
  const snapshot: ConsoleSnapshot = { calls: initialCallState, media: null, shareCamera };
  return render(createElement(CallsPage, { api, store, snapshot }));
}

beforeAll(() => {
  startEnglish();
});

describe('the calls page header', () => {
  it('offers the camera choice before any call rings, pressed when the guard shares it', () => {
    const sharing = page(true);
    const notSharing = page(false);

    expect(sharing.tag('camera-toggle')).toContain('aria-pressed="true"');
    expect(notSharing.tag('camera-toggle')).toContain('aria-pressed="false"');
    expect(sharing.html).toContain(en.calls.shareCamera);
    expect(sharing.count('active-call')).toBe(0);
  });
});
