/** Keeps the page's copy of the core's KioskView current: one fetch, then every pushed change. */
import { useCallback, useEffect, useState } from 'react';
import type { KioskApi, KioskView } from '../contract/api.js';
import { errorCode } from './error-message.js';
import { moduleLogger } from './log.js';

const log = moduleLogger('view');

/** The latest view (null until the first arrives) and the code of the last failure, if any. */
export interface KioskViewState {
  view: KioskView | null;
  errorCode: string | null;
  reportError: (code: string) => void;
}

/** Follows the core's view through `kiosk`; a new view clears any shown error. */
export function useKioskView(kiosk: KioskApi): KioskViewState {
  const [view, setView] = useState<KioskView | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const reportError = useCallback((code: string) => setFailure(code), []);

  useEffect(() => {
    const show = (next: KioskView) => {
      log.debug('view: changed', { screen: next.screen });
      setView(next);
      setFailure(null);
    };
    const unsubscribe = kiosk.on('view:changed', show);

    kiosk.invoke('view:get', {}).then(show, (error: unknown) => {
      log.warn('view: first fetch failed', { code: errorCode(error) });
      setFailure(errorCode(error));
    });
    return unsubscribe;
  }, [kiosk]);

  return { view, errorCode: failure, reportError };
}
