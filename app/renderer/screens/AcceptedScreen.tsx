/**
 * The welcome: who the pass is for and where they go. It says the gate is open without a count of
 * seconds: the relay pulse only starts the barrier, which then stays open by its own timing.
 */
import { useTranslation } from 'react-i18next';
import type { KioskView } from '../../contract/api.js';

type Accepted = NonNullable<KioskView['accepted']>;

/** The accepted screen's content for `accepted`; the name arrives already masked by the core. */
export function AcceptedPanel({ accepted }: { accepted: Accepted | null }) {
  const { t } = useTranslation();

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
      <p className="gate-state" role="status">
        {t('accepted.gateOpen')}
      </p>
    </div>
  );
}
