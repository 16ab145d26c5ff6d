/** The kiosk's language buttons: the core switches the language, the page then follows the view. */
import type { Locale } from '../../contract/api.js';
import { LocaleChoice } from '../../web/LocaleChoice.js';
import { useKiosk } from '../kiosk-context.js';

/** One button per locale, asking the core for the visitor's language. */
export function LocaleButtons({ current }: { current: Locale }) {
  const { send } = useKiosk();

  return (
    <LocaleChoice
      current={current}
      choose={(locale) => send('visitor:setLocale', { locale })}
      className="locales"
      buttonClassName="button button-secondary"
    />
  );
}
