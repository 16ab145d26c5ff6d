/** Who collects what, why and for how long: told before anything is captured. */
import { useTranslation } from 'react-i18next';
import type { KioskView } from '../../contract/api.js';
import { useKiosk } from '../kiosk-context.js';
import { Countdown } from './Countdown.js';

/** The privacy notice for `view.privacy`. */
export function PrivacyScreen({ view }: { view: KioskView }) {
  const { t } = useTranslation();
  const { send } = useKiosk();
  const { controller, purpose, retentionDays } = view.privacy;

  return (
    <main className="screen screen-privacy" data-screen="privacy">
      <h1>{t('privacy.title')}</h1>
      <section className="privacy-section">
        <p>{t('privacy.who', { controller })}</p>
        <ul className="privacy-list">
          <li>{t('privacy.photo')}</li>
          <li>{t('privacy.pass')}</li>
        </ul>
      </section>
      <section className="privacy-section">
        <h2>{t('privacy.whyTitle')}</h2>
        <p>{purpose}</p>
      </section>
      <section className="privacy-section">
        <h2>{t('privacy.howLongTitle')}</h2>
        <p>{t('privacy.howLong', { days: retentionDays })}</p>
      </section>
      <div className="actions">
        <button
          type="button"
          className="button button-primary"
          data-testid="cancel"
          onClick={() => send('visitor:cancel', {})}
        >
          {t('privacy.back')}
        </button>
      </div>
      <Countdown deadline={view.screenTimeoutAt} />
    </main>
  );
}
