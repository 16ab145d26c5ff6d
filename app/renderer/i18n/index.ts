/**
 * The kiosk's translations. Chinese is the default; the core chooses the locale (and resets it on
 * idle), the page only follows it.
 */
import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import type { Locale } from '../../contract/api.js';
import zhCN from './zh-CN.json';
import en from './en.json';

/** Every locale's strings, keyed by the contract's locale names. */
export const resources = {
  'zh-CN': { translation: zhCN },
  en: { translation: en },
} satisfies Record<Locale, { translation: unknown }>;

/** The locale shown before the core has said anything. */
export const defaultLocale: Locale = 'zh-CN';

/** Each locale's name in its own language, for the language buttons. */
export const localeNames: Record<Locale, string> = { 'zh-CN': '中文', en: 'English' };

declare module 'i18next' {
  // Ties t() to the default locale's keys, so a typo is a compile error rather than a raw key.
  interface CustomTypeOptions {
    resources: { translation: typeof zhCN };
  }
}

/** Starts i18next with the bundled strings; synchronous, so the first render is translated. */
export function initI18n(): i18n {
  void i18next.use(initReactI18next).init({
    resources,
    lng: defaultLocale,
    fallbackLng: defaultLocale,
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  });

  return i18next;
}
