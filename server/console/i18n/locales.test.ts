import { describe, expect, it } from 'vitest';
import { errorCodes } from '../../../app/common/errors.js';
import { locales, refusalReasons, type Locale } from '../../../app/contract/api.js';
import { callEndReasons, callRefusalCodes } from '../../../app/contract/intercom-protocol.js';
import {
  flattenTranslations,
  placeholdersOf,
  translationKeysUsedIn,
  type TranslationTree,
} from '../../../app/web/testing/translations.js';
import { callOutcomes } from '../api.js';
import { errorMessageKey, serverOnlyErrorCodes } from '../error-message.js';
import { resources } from './index.js';

// Every console source (not the tests), read as text through Vite's glob: no Node import needed.
const sources = import.meta.glob<string>(['../**/*.ts', '../**/*.tsx', '!../**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
});

const flatByLocale = Object.fromEntries(
  locales.map((locale) => [
    locale,
    flattenTranslations(resources[locale].translation as TranslationTree),
  ]),
) as Record<Locale, Map<string, unknown>>;
const allKeys = [...new Set(Object.values(flatByLocale).flatMap((flat) => [...flat.keys()]))];

function missingIn(keys: Iterable<string>): string[] {
  return locales.flatMap((locale) =>
    [...keys].filter((key) => !flatByLocale[locale].has(key)).map((key) => `${locale}: ${key}`),
  );
}

describe('console translations', () => {
  it.each(locales)('%s has every key that any locale has', (locale) => {
    expect(allKeys.filter((key) => !flatByLocale[locale].has(key))).toEqual([]);
  });

  it.each(locales)('%s has no empty or non-text value', (locale) => {
    const bad = [...flatByLocale[locale]].filter(
      ([, value]) => typeof value !== 'string' || !value.trim(),
    );

    expect(bad.map(([key]) => key)).toEqual([]);
  });

  it('uses the same placeholders for a key in every locale', () => {
    const mismatched = allKeys.filter((key) => {
      const [first, ...rest] = locales.map((locale) =>
        placeholdersOf(flatByLocale[locale].get(key)),
      );
      return rest.some((other) => other.join() !== first.join());
    });

    expect(mismatched).toEqual([]);
  });

  it('has every key that a t() call in the console sources uses', () => {
    const used = new Set(Object.values(sources).flatMap(translationKeysUsedIn));

    // The scan itself must work: the pages use far more than a handful of keys.
    expect(used.size).toBeGreaterThan(50);
    expect(missingIn(used)).toEqual([]);
  });

  it('has a message for every error code the server can send', () => {
    const keys = [...errorCodes, ...serverOnlyErrorCodes, 'teapot'].map(errorMessageKey);

    expect(missingIn(keys)).toEqual([]);
  });

  it('names every way a call can end, be refused, or be listed', () => {
    const keys = [
      ...[...callEndReasons, 'connection_lost'].map((reason) => `endReason.${reason}`),
      ...callRefusalCodes.map((code) => `refusal.${code}`),
      ...callOutcomes.map((outcome) => `outcome.${outcome}`),
      ...refusalReasons.map((reason) => `scanReason.${reason}`),
    ];

    expect(missingIn(keys)).toEqual([]);
  });
});
