/** The welcome: who the pass is for, where they go, and how long the gate stays open. */
import { useTranslation } from 'react-i18next';
import type { KioskView } from '../../contract/api.js';
import { useSecondsLeft } from '../countdown.js';

type Accepted = NonNullable<KioskView['accepted']>;

/** The accepted screen's content for `accepted`; the name arrives already masked by the core. */
export function AcceptedPanel({ accepted }: { accepted: Accepted | null }) {
  const { t } = useTranslation();
  const seconds = useSecondsLeft(accepted?.gateOpenUntil ?? null);

  return (
    <div className="panel">
      <div className="status-mark" aria-hidden="true">
        ✓
      </div>
      <h1 className="welcome">{t('accepted.title')}</h1>
      {accepted && (
        <>
          <p className="visitor-name">{accepted.maskedName}</p>
          <p className="detail">{t('accepted.visiting', { unit: accepted.hostUnit })}</p>
          <p className="detail">{t('accepted.entriesLeft', { entries: accepted.entriesLeft })}</p>
        </>
      )}
      {seconds !== null && (
        <p className="gate-state" role="status">
          {seconds > 0 ? t('accepted.gateOpen', { seconds }) : t('accepted.gateClosing')}
        </p>
      )}
    </div>
  );
}
