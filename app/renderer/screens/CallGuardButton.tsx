/**
 * The on-screen call button. Many visitors come without a pass, and some are elderly: it is big,
 * says plainly what it does and, when no guard can be reached, says so and what to do instead.
 */
import { useTranslation } from 'react-i18next';
import type { KioskView } from '../../contract/api.js';
import { useKiosk } from '../kiosk-context.js';
import { PhoneIcon } from './Icons.js';

/** The call button for `view`: `large` on the idle screen, `plain` beside other actions. */
export function CallGuardButton({ view, size }: { view: KioskView; size: 'large' | 'plain' }) {
  const { t } = useTranslation();
  const { send } = useKiosk();
  const available = view.callAvailable;
  const className =
    size === 'large' ? 'button button-call button-call-large' : 'button button-call';

  return (
    <div className="call-guard">
      <button
        type="button"
        className={className}
        data-testid="call-guard"
        disabled={!available}
        aria-describedby={available ? undefined : 'call-unavailable'}
        onClick={() => send('visitor:call', { source: 'screen' })}
      >
        <PhoneIcon className="icon call-icon" />
        <span className="button-label">{t('call.button')}</span>
        {size === 'large' && available && <span className="button-hint">{t('call.hint')}</span>}
      </button>
      {!available && (
        <p id="call-unavailable" className="notice notice-warning" data-testid="call-unavailable">
          {t('call.unavailable')}
          {view.callFallback && <span className="fallback-line">{view.callFallback}</span>}
        </p>
      )}
    </div>
  );
}
