/** Data a page keeps fresh by asking again on a timer: the kiosks' online lights, for one. */
import { useEffect, useState } from 'react';
import { errorCodeOf } from './error-message.js';

/** How often the pages that show kiosks' online state ask again. */
export const kioskRefreshMs = 5000;

/** The last value `load` gave (null until the first), and the code of the last failed load. */
export interface Polled<T> {
  value: T | null;
  errorCode: string | null;
}

/**
 * Calls `load` now, every `everyMs` while the page shows it, and at once when `version` changes
 * (after a change the guard made). `load` must be stable (useCallback), or it reloads on render.
 */
export function usePolled<T>(load: () => Promise<T>, everyMs: number, version = 0): Polled<T> {
  const [polled, setPolled] = useState<Polled<T>>({ value: null, errorCode: null });

  useEffect(() => {
    let current = true;
    const refresh = () =>
      load().then(
        (value) => {
          if (current) setPolled({ value, errorCode: null });
        },
        (error: unknown) => {
          // The last good value stays on the page beside the error.
          if (current) setPolled((old) => ({ ...old, errorCode: errorCodeOf(error) }));
        },
      );

    void refresh();
    const timer = setInterval(() => void refresh(), everyMs);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [load, everyMs, version]);

  return polled;
}
