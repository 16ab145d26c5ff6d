/**
 * The guard opened the gate during the call: the visitor is told to go through, and still sees
 * and hears the guard until the core hangs up a few seconds later.
 */
import { useTranslation } from 'react-i18next';
import type { KioskView } from '../../contract/api.js';
import type { CallMediaState } from '../call/use-call-media.js';
import { Countdown } from './Countdown.js';
import { GuardVideo } from './GuardVideo.js';

/** The screen after the guard's open, until it times out back to idle. */
export function CallOpenedScreen({ view, media }: { view: KioskView; media: CallMediaState }) {
  const { t } = useTranslation();

  return (
    <main className="screen screen-call-opened" data-screen="callOpened">
      <div className="status-mark" aria-hidden="true">
        ✓
      </div>
      <h1 className="welcome">{t('callOpened.title')}</h1>
      <p className="gate-state" role="status">
        {t('callOpened.goThrough')}
      </p>
      {media.remoteStream && (
        <div className="call-stage call-stage-small">
          <GuardVideo stream={media.remoteStream} />
        </div>
      )}
      <Countdown deadline={view.screenTimeoutAt} />
    </main>
  );
}
