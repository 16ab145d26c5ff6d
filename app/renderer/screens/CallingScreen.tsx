/** Ringing the guards: the visitor sees that something is happening and may give up. */
import { useTranslation } from 'react-i18next';
import type { KioskView } from '../../contract/api.js';
import { useSecondsLeft } from '../countdown.js';
import { useKiosk } from '../kiosk-context.js';
import { PhoneIcon } from './Icons.js';

/** The calling screen for `view`, counting down to the missed call. */
export function CallingScreen({ view }: { view: KioskView }) {
  const { t } = useTranslation();
  const { send } = useKiosk();
  const seconds = useSecondsLeft(view.call?.ringEndsAt ?? null);

  return (
    <main className="screen screen-calling" data-screen="calling">
      <div className="ringing" aria-hidden="true">
        <span className="ringing-wave" />
        <span className="ringing-wave ringing-wave-late" />
        <PhoneIcon className="icon ringing-icon" />
      </div>
      <h1>{t('calling.title')}</h1>
      <p className="gate-name">{t('calling.from', { gate: view.gateName })}</p>
      <p className="hint" role="status">
        {t('calling.hint')}
      </p>
      {seconds !== null && (
        <p className="countdown" aria-live="off">
          {t('calling.waiting', { seconds })}
        </p>
      )}
      <button
        type="button"
        className="button button-secondary"
        data-testid="call-cancel"
        onClick={() => send('visitor:hangUp', {})}
      >
        {t('calling.cancel')}
      </button>
    </main>
  );
}
