/**
 * The translation setup the kiosk page and the guard console share: Chinese first, each language
 * named in itself, and i18next started synchronously so the first render is already translated.
 */
import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import type { Locale } from '../contract/api.js';

/** The language shown until someone chooses one. */
export const defaultLocale: Locale = 'zh-CN';

/** Each locale's name in its own language, for the language buttons. */
export const localeNames: Record<Locale, string> = { 'zh-CN': '中文', en: 'English' };

/** Every locale's strings, keyed by the contract's locale names. */
export type TranslationResources<Strings> = Record<Locale, { translation: Strings }>;

/** Starts i18next with a page's `resources`, showing `locale`. */
export function startI18n(resources: TranslationResources<object>, locale: Locale): i18n {
  void i18next.use(initReactI18next).init({
    resources,
    lng: locale,
    fallbackLng: defaultLocale,
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  });

  return i18next;
}
