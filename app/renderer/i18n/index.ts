/**
 * The kiosk's translations. Chinese is the default; the core chooses the locale (and resets it on
 * idle), the page only follows it.
 */
import type { i18n } from 'i18next';
import { startI18n, defaultLocale, type TranslationResources } from '../../web/i18n.js';
import zhCN from './zh-CN.json';
import en from './en.json';

/** Every locale's strings, keyed by the contract's locale names. */
export const resources = {
  'zh-CN': { translation: zhCN },
  en: { translation: en },
} satisfies TranslationResources<object>;

declare module 'i18next' {
  // Ties t() to the default locale's keys, so a typo is a compile error rather than a raw key.
  interface CustomTypeOptions {
    resources: { translation: typeof zhCN };
  }
}

/** Starts i18next with the bundled strings in the default locale, until the core names one. */
export function initI18n(): i18n {
  return startI18n(resources, defaultLocale);
}
