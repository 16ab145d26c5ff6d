/**
 * The attract screen: where the visitor is, one huge button to scan a pass and one to call a
 * guard for those without one, privacy and language.
 */
import { useTranslation } from 'react-i18next';
import type { KioskView } from '../../contract/api.js';
import { useKiosk } from '../kiosk-context.js';
import { CallGuardButton } from './CallGuardButton.js';
import { LocaleButtons } from './LocaleButtons.js';

/** The idle screen for `view`. */
export function IdleScreen({ view }: { view: KioskView }) {
  const { t } = useTranslation();
  const { send } = useKiosk();

  return (
    <main className="screen screen-idle" data-screen="idle">
      <header className="place">
        <h1 className="site-name">{view.siteName}</h1>
        <p className="gate-name">{view.gateName}</p>
      </header>
      {!view.gateAvailable && (
        <p className="notice notice-warning" role="status" data-testid="gate-unavailable">
          {t('idle.gateUnavailable')}
        </p>
      )}
      {view.entryMethods.scanner === 'unavailable' && (
        <p className="notice notice-warning" role="status" data-testid="scanner-unavailable">
          {t('idle.scannerUnavailable')}
        </p>
      )}
      {view.entryMethods.idCard === 'unavailable' && (
        <p className="notice notice-warning" role="status" data-testid="idcard-unavailable">
          {t('idle.idCardUnavailable')}
        </p>
      )}
      <div className="idle-choices">
        <button
          type="button"
          className="button button-primary button-huge"
          data-testid="start-scan"
          onClick={() => send('visitor:startScan', {})}
        >
          <span className="button-label">{t('idle.startScan')}</span>
          <span className="button-hint">{t('idle.startScanHint')}</span>
        </button>
        <CallGuardButton view={view} size="large" />
      </div>
      <div className="actions">
        <button
          type="button"
          className="button button-secondary"
          data-testid="show-privacy"
          onClick={() => send('visitor:showPrivacy', {})}
        >
          {t('idle.privacy')}
        </button>
      </div>
      <LocaleButtons current={view.locale} />
    </main>
  );
}
