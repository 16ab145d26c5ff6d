/**
 * What the admin page shows, loaded together, again after every change an admin makes, and every
 * few seconds like the kiosks page, so the kiosks' online state stays live.
 */
import { useCallback, useState } from 'react';
import { kioskRefreshMs, usePolled } from '../use-polled.js';
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
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((current) => current + 1), []);
  const load = useCallback(
    () =>
      Promise.all([api.guards(), api.kiosks(), api.ringGroups()]).then(
        ([guards, kiosks, ringGroups]): AdminData => ({ guards, kiosks, ringGroups }),
      ),
    [api],
  );
  const { value, errorCode } = usePolled(load, kioskRefreshMs, version);

  return { data: value, errorCode, reload };
}
