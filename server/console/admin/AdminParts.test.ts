import i18next from 'i18next';
import { createElement } from 'react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import en from '../i18n/en.json';
import zhCN from '../i18n/zh-CN.json';
import { render, startEnglish } from '../testing/markup.js';
import { DoneNotice, OutcomeNotice } from './AdminParts.js';

beforeAll(() => {
  startEnglish();
});

afterEach(async () => {
  await i18next.changeLanguage('en');
});

describe('the line saying what was done', () => {
  const message = { key: 'admin.guards.done' as const, values: { name: 'anna' } };

  it('follows a change of language after it was shown', async () => {
    const before = render(createElement(DoneNotice, { message, testId: 'guard-created' }));
    await i18next.changeLanguage('zh-CN');
    const after = render(createElement(DoneNotice, { message, testId: 'guard-created' }));

    expect(before.html).toContain(en.admin.guards.done.replace('{{name}}', 'anna'));
    expect(after.html).toContain(zhCN.admin.guards.done.replace('{{name}}', 'anna'));
  });

  it('shows the outcome of a change by its key', () => {
    const outcome = { done: { key: 'admin.guards.disabledDone' as const, values: { name: 'bo' } } };
    const markup = render(createElement(OutcomeNotice, { outcome, testId: 'guard-change' }));

    expect(markup.count('guard-change-done')).toBe(1);
    expect(markup.html).toContain(en.admin.guards.disabledDone.replace('{{name}}', 'bo'));
  });
});
