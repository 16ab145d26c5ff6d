/** The call is over without an opening; why, in the visitor's words, and where to get help. */
import { useTranslation } from 'react-i18next';
import type { KioskView } from '../../contract/api.js';
import { BackToStart } from './BackToStart.js';

/** The call-ended screen; the reason is on the root as data-end-reason for tests and support. */
export function CallEndedScreen({ view }: { view: KioskView }) {
  const { t } = useTranslation();
  const reason = view.call?.endReason ?? null;

  return (
    <main
      className="screen screen-call-ended"
      data-screen="callEnded"
      data-end-reason={reason ?? undefined}
    >
      <h1>{t('callEnded.title')}</h1>
      <p className="reason" role="status" data-testid="call-end-reason">
        {reason ? t(`callEndReason.${reason}`) : t('callEnded.noReason')}
      </p>
      {view.callFallback && (
        <p className="help">{t('callEnded.help', { fallback: view.callFallback })}</p>
      )}
      <BackToStart label={t('callEnded.back')} deadline={view.screenTimeoutAt} />
    </main>
  );
}
