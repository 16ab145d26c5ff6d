/** The language buttons: each names its language in that language, so anyone can find theirs. */
import { locales, type Locale } from '../../contract/api.js';
import { localeNames } from '../i18n/index.js';
import { useKiosk } from '../kiosk-context.js';

/** One button per locale; the core switches the language, the page then follows the view. */
export function LocaleButtons({ current }: { current: Locale }) {
  const { send } = useKiosk();

  return (
    <nav className="locales">
      {locales.map((locale) => (
        <button
          key={locale}
          type="button"
          lang={locale}
          className="button button-secondary"
          aria-pressed={locale === current}
          data-testid={`locale-${locale}`}
          onClick={() => send('visitor:setLocale', { locale })}
        >
          {localeNames[locale]}
        </button>
      ))}
    </nav>
  );
}
