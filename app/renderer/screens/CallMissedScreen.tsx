/** Nobody answered: what the site wants a visitor to do instead (often a phone number), large. */
import { useTranslation } from 'react-i18next';
import type { KioskView } from '../../contract/api.js';
import { BackToStart } from './BackToStart.js';

/** The missed-call screen with `view.callFallback`. */
export function CallMissedScreen({ view }: { view: KioskView }) {
  const { t } = useTranslation();

  return (
    <main className="screen screen-call-missed" data-screen="callMissed">
      <h1>{t('callMissed.title')}</h1>
      <p className="help">{t('callMissed.instead')}</p>
      <p className="fallback" data-testid="call-fallback" role="status">
        {view.callFallback || t('callMissed.noFallback')}
      </p>
      <BackToStart label={t('callMissed.back')} deadline={view.screenTimeoutAt} />
    </main>
  );
}
