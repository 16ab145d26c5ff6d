import { describe, expect, it } from 'vitest';
import { flattenTranslations, placeholdersOf, translationKeysUsedIn } from './translations.js';

describe('flattenTranslations', () => {
  it('joins nested keys with dots and keeps the leaves', () => {
    const flat = flattenTranslations({ a: { b: 'x', c: { d: 'y' } }, e: 'z' });

    expect([...flat]).toEqual([
      ['a.b', 'x'],
      ['a.c.d', 'y'],
      ['e', 'z'],
    ]);
  });
});

describe('translationKeysUsedIn', () => {
  it('finds keys in single- and double-quoted t() calls but not in other functions', () => {
    const source = `t('a.b'); t("c.d", { x }); format('e.f'); const at = t(  'g.h' );`;

    expect(translationKeysUsedIn(source)).toEqual(['a.b', 'c.d', 'g.h']);
  });
});

describe('placeholdersOf', () => {
  it('lists the placeholders sorted, spaces inside the braces allowed', () => {
    expect(placeholdersOf('{{ seconds }} s to {{kiosk}}')).toEqual(['kiosk', 'seconds']);
    expect(placeholdersOf('none')).toEqual([]);
  });
});
