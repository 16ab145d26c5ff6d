/** The language buttons of both pages: each names its language in that language, so anyone finds theirs. */
import { locales, type Locale } from '../contract/api.js';
import { localeNames } from './i18n.js';

/** How a page shows and handles the language buttons. */
export interface LocaleChoiceProps {
  current: Locale;
  /** Switches to `locale`: the kiosk asks its core, the console switches itself. */
  choose: (locale: Locale) => void;
  className: string;
  buttonClassName: string;
  /** What the group is called for screen readers. */
  label?: string;
}

/** One button per locale, the current one pressed. */
export function LocaleChoice({
  current,
  choose,
  className,
  buttonClassName,
  label,
}: LocaleChoiceProps) {
  return (
    <div className={className} role="group" aria-label={label}>
      {locales.map((locale) => (
        <button
          key={locale}
          type="button"
          lang={locale}
          className={buttonClassName}
          aria-pressed={locale === current}
          data-testid={`locale-${locale}`}
          onClick={() => choose(locale)}
        >
          {localeNames[locale]}
        </button>
      ))}
    </div>
  );
}
