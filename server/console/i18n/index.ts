/**
 * The console's translations, Chinese and English. The language is the guard's choice, kept in
 * the browser; the first time it follows the browser's languages, Chinese otherwise.
 */
import i18next, { type i18n } from 'i18next';
import { useCallback } from 'react';
import { useTranslation } from 'react-i18next';
import { locales, type Locale } from '../../../app/contract/api.js';
import { defaultLocale, startI18n, type TranslationResources } from '../../../app/web/i18n.js';
import en from './en.json';
import zhCN from './zh-CN.json';

/** Every locale's strings, keyed by the contract's locale names. */
export const resources = {
  'zh-CN': { translation: zhCN },
  en: { translation: en },
} satisfies TranslationResources<object>;

type Leaves<T, Prefix extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${Prefix}${K}` : Leaves<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

/** Every key of the console's strings, so a typo in a literal key is a compile error. */
export type TranslationKey = Leaves<typeof zhCN>;

/** Translates `key`, filling its {{placeholders}} from `values`. */
export type Translate = (key: TranslationKey, values?: Record<string, string | number>) => string;

const storageKey = 'guard-console.locale';

/** The guard's stored choice if it is one of ours, else the first browser language we have. */
export function pickLocale(stored: string | null, browserLanguages: readonly string[]): Locale {
  if (stored && (locales as readonly string[]).includes(stored)) return stored as Locale;

  for (const language of browserLanguages) {
    const lower = language.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return defaultLocale;
}

/** Starts i18next in the guard's language; synchronous, so the first render is translated. */
export function initI18n(): i18n {
  const locale = pickLocale(readStoredLocale(), navigator.languages ?? [navigator.language]);
  document.documentElement.lang = locale;

  return startI18n(resources, locale);
}

/** Switches the language and remembers the choice for the next visit. */
export function changeLocale(locale: Locale): void {
  try {
    localStorage.setItem(storageKey, locale);
  } catch {
    // Storage may be off (private mode); the choice then lasts until the page closes.
  }
  document.documentElement.lang = locale;
  void i18next.changeLanguage(locale);
}

function readStoredLocale(): string | null {
  try {
    return localStorage.getItem(storageKey);
  } catch {
    return null;
  }
}

/** The console's translate function and the current locale. */
export function useT(): { t: Translate; locale: Locale } {
  const { t: translate, i18n: instance } = useTranslation();
  // The kiosk page types i18next's keys with its own strings; the console checks its keys itself.
  const loose = translate as unknown as (key: string, values?: object) => string;
  const t = useCallback<Translate>((key, values) => loose(key, values), [loose]);
  const locale = pickLocale(instance.language, []);

  return { t, locale };
}
