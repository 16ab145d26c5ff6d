/**
 * The guard console: the login page until the server knows the guard, then the console itself.
 * The session lives in the server's cookie; `/api/me` on load decides which page shows, and an
 * ended session (a 401 anywhere, or the guard channel closed for it) brings the login back.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { createApi, ApiError, type GuardInfo } from './api.js';
import type { Ringer } from './calls/ringer.js';
import { ConsoleShell } from './ConsoleShell.js';
import { useT } from './i18n/index.js';
import { LoginPage } from './pages/LoginPage.js';

type Session =
  | { status: 'checking' }
  | { status: 'out'; ended: boolean; errorCode: string | null }
  | { status: 'in'; guard: GuardInfo };

/** The whole console; `ringer` makes the ringing sound. */
export function App({ ringer }: { ringer: Ringer }) {
  const [session, setSession] = useState<Session>({ status: 'checking' });
  const endSession = useCallback(
    () =>
      setSession((current) =>
        current.status === 'in' ? { status: 'out', ended: true, errorCode: null } : current,
      ),
    [],
  );
  const api = useMemo(() => createApi({ onUnauthorised: endSession }), [endSession]);

  useEffect(() => {
    api.me().then(
      (guard) => setSession({ status: 'in', guard }),
      (error: unknown) =>
        setSession({ status: 'out', ended: false, errorCode: startupError(error) }),
    );
  }, [api]);
  useUnlockOnGesture(ringer);

  switch (session.status) {
    case 'checking':
      return <Checking />;
    case 'out':
      return (
        <LoginPage
          api={api}
          sessionEnded={session.ended}
          startupError={session.errorCode}
          onLoggedIn={(guard) => setSession({ status: 'in', guard })}
        />
      );
    case 'in':
      return (
        <ConsoleShell
          api={api}
          guard={session.guard}
          ringer={ringer}
          onLoggedOut={() => setSession({ status: 'out', ended: false, errorCode: null })}
          onSessionEnded={endSession}
        />
      );
  }
}

/** Not being logged in is the normal start; anything else is worth saying. */
function startupError(error: unknown): string | null {
  if (error instanceof ApiError && error.status === 401) return null;

  return error instanceof ApiError ? error.serverCode : 'internal';
}

function Checking() {
  const { t } = useT();

  return (
    <main className="page-center" aria-busy="true">
      <p>{t('app.loading')}</p>
    </main>
  );
}

// Browsers allow sound only after a gesture on the page: the first click or key unlocks it.
function useUnlockOnGesture(ringer: Ringer): void {
  useEffect(() => {
    const unlock = () => ringer.unlock();
    document.addEventListener('pointerdown', unlock, { capture: true });
    document.addEventListener('keydown', unlock, { capture: true });

    return () => {
      document.removeEventListener('pointerdown', unlock, { capture: true });
      document.removeEventListener('keydown', unlock, { capture: true });
    };
  }, [ringer]);
}
