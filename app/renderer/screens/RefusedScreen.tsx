/** A refusal in plain words, with a way to try again, call a guard or go back. */
import { useTranslation } from 'react-i18next';
import type { KioskView } from '../../contract/api.js';
import { useKiosk } from '../kiosk-context.js';
import { CallGuardButton } from './CallGuardButton.js';
import { Countdown } from './Countdown.js';

/** The refused screen; the reason is on the root as data-refusal for tests and support. */
export function RefusedScreen({ view }: { view: KioskView }) {
  const { t } = useTranslation();
  const { send } = useKiosk();
  // The core always names a reason; if one is ever missing, "not a pass" is the safest wording.
  const reason = view.refusal ?? 'not_a_pass';

  return (
    <main className="screen screen-refused" data-screen="refused" data-refusal={reason}>
      <div className="status-mark" aria-hidden="true">
        ✕
      </div>
      <h1>{t('refused.title')}</h1>
      <p className="reason" role="alert">
        {t(`refusal.${reason}`)}
      </p>
      <p className="help">{t('refused.help')}</p>
      <CallGuardButton view={view} size="plain" />
      <div className="actions">
        <button
          type="button"
          className="button button-light"
          data-testid="try-again"
          onClick={() => send('visitor:startScan', {})}
        >
          {t('refused.tryAgain')}
        </button>
        <button
          type="button"
          className="button button-outline"
          data-testid="cancel"
          onClick={() => send('visitor:cancel', {})}
        >
          {t('refused.back')}
        </button>
      </div>
      <Countdown deadline={view.screenTimeoutAt} />
    </main>
  );
}
