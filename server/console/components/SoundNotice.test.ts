import { createElement } from 'react';
import { beforeAll, describe, expect, it } from 'vitest';
import en from '../i18n/en.json';
import { render, startEnglish } from '../testing/markup.js';
import { SoundNotice, type SoundLock } from './SoundNotice.js';

function lock(unlocked: boolean): SoundLock {
  return { unlocked, unlock: () => undefined, subscribe: () => () => undefined };
}

beforeAll(() => {
  startEnglish();
});

describe('the sound notice', () => {
  it('floats above the page as a toast while the sound is locked, so removing it moves nothing', () => {
    const markup = render(createElement(SoundNotice, { ringer: lock(false) }));

    expect(markup.count('sound-off')).toBe(1);
    expect(markup.tag('sound-off')).toMatch(/class="[^"]*\btoast\b/);
    expect(markup.html).toContain(en.sound.off);
    expect(markup.html).toContain(en.sound.enable);
  });

  it('is gone once the browser lets the page ring', () => {
    const markup = render(createElement(SoundNotice, { ringer: lock(true) }));

    expect(markup.html).toBe('');
  });
});
