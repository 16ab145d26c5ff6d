/**
 * The kiosk page: shows whichever screen the core's view names, in the view's language, and tells
 * the core about every touch. It decides nothing itself.
 */
import { useEffect, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { KioskApi, KioskView } from '../contract/api.js';
import { assertNever } from '../common/errors.js';
import { createKioskActions, KioskContext } from './kiosk-context.js';
import { createThrottle } from './throttle.js';
import { useKioskView } from './use-kiosk-view.js';
import { CameraFlow } from './screens/CameraFlow.js';
import { ErrorNotice } from './screens/ErrorNotice.js';
import { IdleScreen } from './screens/IdleScreen.js';
import { PrivacyScreen } from './screens/PrivacyScreen.js';
import { RefusedScreen } from './screens/RefusedScreen.js';

// The core only needs to know the visitor is still there; once every two seconds says so.
const touchIntervalMs = 2000;

/** The whole page for the core reached through `kiosk`. */
export function App({ kiosk }: { kiosk: KioskApi }) {
  const { view, errorCode, reportError } = useKioskView(kiosk);
  const actions = useMemo(() => createKioskActions(kiosk, reportError), [kiosk, reportError]);
  const allowTouch = useMemo(() => createThrottle(touchIntervalMs), []);
  useFollowLocale(view);

  const onTouch = () => {
    if (allowTouch()) actions.send('visitor:touch', {});
  };

  return (
    <KioskContext value={actions}>
      <div className="app" onPointerDownCapture={onTouch}>
        {view ? <ScreenFor view={view} /> : <Starting />}
        {view?.demo && <DemoBanner />}
        {errorCode && <ErrorNotice code={errorCode} className="notice-floating" />}
      </div>
    </KioskContext>
  );
}

function ScreenFor({ view }: { view: KioskView }) {
  switch (view.screen) {
    case 'idle':
      return <IdleScreen view={view} />;
    case 'privacy':
      return <PrivacyScreen view={view} />;
    case 'scanning':
    case 'verifying':
    case 'accepted':
      return <CameraFlow view={view} />;
    case 'refused':
      return <RefusedScreen view={view} />;
    default:
      return assertNever(view.screen, 'screen');
  }
}

/** Said on every screen of a demo kiosk: nothing it shows opens a real gate. */
function DemoBanner() {
  const { t } = useTranslation();

  return (
    <p className="demo-banner" data-testid="demo-banner">
      {t('idle.demoBanner')}
    </p>
  );
}

function Starting() {
  const { t } = useTranslation();

  return (
    <main className="screen screen-starting">
      <div className="spinner" aria-hidden="true" />
      <p>{t('app.loading')}</p>
    </main>
  );
}

// The core owns the language (it resets it on idle); the page and its lang attribute follow.
function useFollowLocale(view: KioskView | null): void {
  const { i18n } = useTranslation();
  const locale = view?.locale;

  useEffect(() => {
    if (!locale) return;

    document.documentElement.lang = locale;
    void i18n.changeLanguage(locale);
  }, [locale, i18n]);
}
