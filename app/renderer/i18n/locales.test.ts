import { describe, expect, it } from 'vitest';
import { locales, refusalReasons, type Locale } from '../../contract/api.js';
import { callEndReasons } from '../../contract/intercom-protocol.js';
import { errorCodes } from '../../common/errors.js';
import { errorMessageKey } from '../error-message.js';
import {
  flattenTranslations as flatten,
  placeholdersOf as placeholders,
  translationKeysUsedIn as keysUsedIn,
  type TranslationTree as Tree,
} from '../../web/testing/translations.js';
import { resources } from './index.js';

// Every renderer source (not the tests), read as text through Vite's glob so no Node import is
// needed in renderer code.
const sources = import.meta.glob<string>(['../**/*.ts', '../**/*.tsx', '!../**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
});

const flatByLocale = Object.fromEntries(
  locales.map((locale) => [locale, flatten(resources[locale].translation as Tree)]),
) as Record<Locale, Map<string, unknown>>;
const allKeys = [...new Set(Object.values(flatByLocale).flatMap((flat) => [...flat.keys()]))];

describe('translations', () => {
  it.each(locales)('%s has every key that any locale has', (locale) => {
    const flat = flatByLocale[locale];

    expect(allKeys.filter((key) => !flat.has(key))).toEqual([]);
  });

  it.each(locales)('%s has no empty or non-text value', (locale) => {
    const flat = flatByLocale[locale];
    const bad = [...flat].filter(([, value]) => typeof value !== 'string' || !value.trim());

    expect(bad.map(([key]) => key)).toEqual([]);
  });

  it('uses the same placeholders for a key in every locale', () => {
    const mismatched = allKeys.filter((key) => {
      const [first, ...rest] = locales.map((l) => placeholders(flatByLocale[l].get(key)));
      return rest.some((other) => other.join() !== first.join());
    });

    expect(mismatched).toEqual([]);
  });

  it('has every key that a t() call in the renderer sources uses, in every locale', () => {
    const used = new Set(Object.values(sources).flatMap(keysUsedIn));
    const missing = locales.flatMap((locale) =>
      [...used].filter((key) => !flatByLocale[locale].has(key)).map((key) => `${locale}: ${key}`),
    );

    // The scan itself must work: the screens use far more than a handful of keys.
    expect(used.size).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });

  it('has a message for every refusal reason the core can give', () => {
    const missing = locales.flatMap((locale) =>
      refusalReasons.filter((reason) => !flatByLocale[locale].has(`refusal.${reason}`)),
    );

    expect(missing).toEqual([]);
  });

  it('has a message for every reason a call can end', () => {
    const missing = locales.flatMap((locale) =>
      callEndReasons.filter((reason) => !flatByLocale[locale].has(`callEndReason.${reason}`)),
    );

    expect(missing).toEqual([]);
  });

  it('has a message for every error code and for camera failures', () => {
    const keys = new Set(
      [...errorCodes, 'camera_unavailable', 'NotAllowedError'].map(errorMessageKey),
    );
    const missing = locales.flatMap((locale) =>
      [...keys].filter((key) => !flatByLocale[locale].has(key)),
    );

    expect(missing).toEqual([]);
  });
});
