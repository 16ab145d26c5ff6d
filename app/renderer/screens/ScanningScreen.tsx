/** The scanning screen's text around the live camera preview. */
import { useTranslation } from 'react-i18next';
import type { KioskView } from '../../contract/api.js';
import { useKiosk } from '../kiosk-context.js';
import { Countdown } from './Countdown.js';
import { ErrorNotice } from './ErrorNotice.js';

/** Above the preview: what to do and how to hold the phone. */
export function ScanningHeader() {
  const { t } = useTranslation();

  return (
    <header className="panel">
      <h1>{t('scanning.title')}</h1>
      <p className="hint">{t('scanning.hint')}</p>
    </header>
  );
}

/** Below the preview: the photo notice, any camera trouble, cancel and the countdown. */
export function ScanningFooter({
  view,
  cameraError,
}: {
  view: KioskView;
  cameraError: string | null;
}) {
  const { t } = useTranslation();
  const { send } = useKiosk();
  const { controller, retentionDays } = view.privacy;

  return (
    <footer className="panel">
      {cameraError && <ErrorNotice code={cameraError} />}
      <p className="privacy-line">{t('scanning.privacy', { controller, days: retentionDays })}</p>
      <button
        type="button"
        className="button button-secondary"
        data-testid="cancel"
        onClick={() => send('visitor:cancel', {})}
      >
        {t('scanning.cancel')}
      </button>
      <Countdown deadline={view.screenTimeoutAt} />
    </footer>
  );
}
