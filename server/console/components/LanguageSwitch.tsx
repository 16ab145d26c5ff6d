/** The console's language buttons; the choice is remembered in this browser. */
import { LocaleChoice } from '../../../app/web/LocaleChoice.js';
import { changeLocale, useT } from '../i18n/index.js';

/** One button per locale, switching the console at once. */
export function LanguageSwitch() {
  const { t, locale } = useT();

  return (
    <LocaleChoice
      current={locale}
      choose={changeLocale}
      className="language-switch"
      buttonClassName="button button-quiet"
      label={t('app.language')}
    />
  );
}
