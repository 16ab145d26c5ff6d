/** What the admin page shows, loaded together and again after every change an admin makes. */
import { useCallback, useEffect, useState } from 'react';
import { errorCodeOf } from '../error-message.js';
import type { AdminApi, AdminKiosk, GuardAccount, RingGroup } from './api.js';

/** Guards, kiosks and ring groups as the server last listed them. */
export interface AdminData {
  guards: GuardAccount[];
  kiosks: AdminKiosk[];
  ringGroups: RingGroup[];
}

/** The admin data (null until the first load), the code of the last failed load, and a reload. */
export function useAdminData(api: AdminApi): {
  data: AdminData | null;
  errorCode: string | null;
  reload: () => void;
} {
  const [data, setData] = useState<AdminData | null>(null);
  const [errorCode, setErrorCode] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((current) => current + 1), []);

  useEffect(() => {
    let current = true;
    Promise.all([api.guards(), api.kiosks(), api.ringGroups()]).then(
      ([guards, kiosks, ringGroups]) => {
        if (!current) return;
        setData({ guards, kiosks, ringGroups });
        setErrorCode(null);
      },
      (error: unknown) => {
        if (current) setErrorCode(errorCodeOf(error));
      },
    );

    return () => {
      current = false;
    };
  }, [api, version]);

  return { data, errorCode, reload };
}
