/**
 * The call is over without an opening: why, in the visitor's words, a way to call again and a way
 * back. The fallback (e.g. a phone number) is for a visitor no guard could talk to: after a lost
 * connection, not after a guard chose to deny or hang up.
 */
import { useTranslation } from 'react-i18next';
import type { KioskView } from '../../contract/api.js';
import { BackToStart } from './BackToStart.js';
import { CallGuardButton } from './CallGuardButton.js';

type EndReason = NonNullable<KioskView['call']>['endReason'];

/** Ends where the visitor was cut off rather than answered; an unknown end counts as one. */
const cutOffReasons: ReadonlySet<EndReason> = new Set<EndReason>([
  'guard_left',
  'kiosk_left',
  null,
]);

/** The call-ended screen; the reason is on the root as data-end-reason for tests and support. */
export function CallEndedScreen({ view }: { view: KioskView }) {
  const { t } = useTranslation();
  const reason = view.call?.endReason ?? null;
  const denied = reason === 'denied';
  // While calling is unavailable the call button's notice already shows the fallback.
  const showFallback = cutOffReasons.has(reason) && view.callAvailable && !!view.callFallback;

  return (
    <main
      className="screen screen-call-ended"
      data-screen="callEnded"
      data-end-reason={reason ?? undefined}
    >
      <h1>{denied ? t('callEnded.deniedTitle') : t('callEnded.title')}</h1>
      <p className="reason" role="status" data-testid="call-end-reason">
        {reason ? t(`callEndReason.${reason}`) : t('callEnded.noReason')}
      </p>
      {denied && <p className="help">{t('callEnded.deniedNext')}</p>}
      {showFallback && (
        <p className="help" data-testid="call-ended-fallback">
          {t('callEnded.help', { fallback: view.callFallback })}
        </p>
      )}
      <CallGuardButton view={view} size="plain" />
      <BackToStart label={t('callEnded.back')} deadline={view.screenTimeoutAt} />
    </main>
  );
}
