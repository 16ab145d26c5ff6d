/**
 * The kiosk page: shows whichever screen the core's view names, in the view's language, and tells
 * the core about every touch. It decides nothing itself.
 */
import { useCallback, useEffect, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { KioskApi, KioskView } from '../contract/api.js';
import { assertNever } from '../common/errors.js';
import { useCallKey } from './call/call-key.js';
import { useKeyboardScanner, type KeyboardScannerHandlers } from './scan/keyboard-scanner.js';
import { noCallMedia, useCallMedia, type CallMediaState } from './call/use-call-media.js';
import { createKioskActions, KioskContext } from './kiosk-context.js';
import { createThrottle } from './throttle.js';
import { useKioskView } from './use-kiosk-view.js';
import { CallEndedScreen } from './screens/CallEndedScreen.js';
import { CallMissedScreen } from './screens/CallMissedScreen.js';
import { CallOpenedScreen } from './screens/CallOpenedScreen.js';
import { CallingScreen } from './screens/CallingScreen.js';
import { CameraFlow } from './screens/CameraFlow.js';
import { ErrorNotice } from './screens/ErrorNotice.js';
import { IdleScreen } from './screens/IdleScreen.js';
import { InCallScreen } from './screens/InCallScreen.js';
import { PrivacyScreen } from './screens/PrivacyScreen.js';
import { RefusedScreen } from './screens/RefusedScreen.js';

// The core only needs to know the visitor is still there; once every two seconds says so.
const touchIntervalMs = 2000;

/** The whole page for the core reached through `kiosk`. */
export function App({ kiosk }: { kiosk: KioskApi }) {
  const { view, errorCode, reportError } = useKioskView(kiosk);
  const actions = useMemo(() => createKioskActions(kiosk, reportError), [kiosk, reportError]);
  const allowTouch = useMemo(() => createThrottle(touchIntervalMs), []);
  const callFromKey = useCallback(
    () => actions.send('visitor:call', { source: 'keyboard' }),
    [actions],
  );
  const keyboardScan = useMemo<KeyboardScannerHandlers>(
    () => ({
      onScan: (report) => actions.send('scan:report', report),
      onWarning: (code) => actions.send('scanner:warning', { code }),
    }),
    [actions],
  );
  const callMedia = useCallMedia(view, actions);
  useFollowLocale(view);
  useCallKey(view?.callKey ?? null, callFromKey);
  useKeyboardScanner(view?.keyboardScanner ?? null, keyboardScan);

  const onTouch = () => {
    if (allowTouch()) actions.send('visitor:touch', {});
  };

  return (
    <KioskContext value={actions}>
      <div className="app" onPointerDownCapture={onTouch}>
        {view ? <ScreenFor view={view} callMedia={callMedia} /> : <Starting />}
        {view?.demo && <DemoBanner />}
        {errorCode && <ErrorNotice code={errorCode} className="notice-floating" />}
      </div>
    </KioskContext>
  );
}

/** The screen the view names, with the media of a call in progress; every screen has a case. */
export function ScreenFor({
  view,
  callMedia = noCallMedia,
}: {
  view: KioskView;
  callMedia?: CallMediaState;
}) {
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
    case 'calling':
      return <CallingScreen view={view} />;
    case 'inCall':
      return <InCallScreen view={view} media={callMedia} />;
    case 'callOpened':
      return <CallOpenedScreen view={view} media={callMedia} />;
    case 'callMissed':
      return <CallMissedScreen view={view} />;
    case 'callEnded':
      return <CallEndedScreen view={view} />;
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
