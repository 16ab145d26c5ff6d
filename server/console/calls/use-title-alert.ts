/**
 * Makes waiting calls visible from another tab or a minimised window: while any call rings, the
 * page title alternates between the waiting calls and the console's name.
 */
import { useEffect } from 'react';
import { useT } from '../i18n/index.js';
import type { RingingCall } from './call-state.js';

const flashMs = 1000;

/** Flashes the title while `ringing` is not empty and restores it after. */
export function useTitleAlert(ringing: readonly RingingCall[]): void {
  const { t } = useT();
  const title = t('app.title');
  const first = ringing[0]?.kioskName;
  const alert =
    first === undefined ? null : t('calls.titleAlert', { count: ringing.length, kiosk: first });

  useEffect(() => {
    document.title = title;
    if (alert === null) return;

    let showAlert = true;
    document.title = alert;
    const timer = setInterval(() => {
      showAlert = !showAlert;
      document.title = showAlert ? alert : title;
    }, flashMs);

    return () => {
      clearInterval(timer);
      document.title = title;
    };
  }, [alert, title]);
}
