/**
 * The logged-in console: a header with the pages, the connection and the guard, and the page
 * itself. The console's store lives here, so calls keep ringing whichever page is open.
 */
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { AdminPage } from './admin/AdminPage.js';
import { createAdminApi } from './admin/api.js';
import type { ConsoleApi, GuardInfo } from './api.js';
import { ApiError } from './api.js';
import type { Ringer } from './calls/ringer.js';
import { useTitleAlert } from './calls/use-title-alert.js';
import { LanguageSwitch } from './components/LanguageSwitch.js';
import { SoundNotice } from './components/SoundNotice.js';
import { readCameraPreference } from './preferences.js';
import { ConsoleStore, type ConsoleSnapshot } from './console-store.js';
import { useT, type TranslationKey } from './i18n/index.js';
import { CallsPage } from './pages/CallsPage.js';
import { KiosksPage } from './pages/KiosksPage.js';
import { PassesPage } from './pages/PassesPage.js';
import { useHashPage, type PageName } from './use-hash-page.js';

/** The console for `guard` until logout or the end of the session. */
export function ConsoleShell({
  api,
  guard,
  ringer,
  onLoggedOut,
  onSessionEnded,
}: {
  api: ConsoleApi;
  guard: GuardInfo;
  ringer: Ringer;
  onLoggedOut: () => void;
  onSessionEnded: () => void;
}) {
  const store = useConsoleStore(api, ringer, onSessionEnded);
  const snapshot = useSyncExternalStore(store.subscribe, store.snapshot);
  const adminApi = useMemo(
    () => createAdminApi({ onUnauthorised: onSessionEnded }),
    [onSessionEnded],
  );
  const [page, goTo] = useHashPage();
  useTitleAlert(snapshot.calls.ringing);

  const logout = () => {
    store.stop();
    api.logout().then(onLoggedOut, onLoggedOut);
  };

  return (
    <div className="console">
      <ConsoleHeader
        guard={guard}
        page={page}
        snapshot={snapshot}
        onLogout={logout}
        onShowCalls={() => goTo('calls')}
      />
      <SoundNotice ringer={ringer} />
      {page === 'calls' && <CallsPage api={api} store={store} snapshot={snapshot} />}
      {page === 'kiosks' && <KiosksPage api={api} />}
      {page === 'passes' && <PassesPage api={api} />}
      {page === 'admin' && <AdminPage api={adminApi} guard={guard} />}
    </div>
  );
}

function useConsoleStore(
  api: ConsoleApi,
  ringer: Ringer,
  onSessionEnded: () => void,
): ConsoleStore {
  const [store] = useState(
    () =>
      new ConsoleStore({
        onSessionEnded,
        sessionAlive: () =>
          api.me().then(
            () => true,
            (error: unknown) => !(error instanceof ApiError && error.status === 401),
          ),
        ring: (on, quiet) => ringer.ring(on, quiet),
        shareCamera: readCameraPreference(),
      }),
  );

  useEffect(() => {
    store.start();
    const online = () => store.reconnectNow();
    window.addEventListener('online', online);

    return () => {
      window.removeEventListener('online', online);
      store.stop();
    };
  }, [store]);

  return store;
}

const pages: { name: PageName; label: TranslationKey; adminOnly?: boolean }[] = [
  { name: 'calls', label: 'nav.calls' },
  { name: 'kiosks', label: 'nav.kiosks' },
  { name: 'passes', label: 'nav.passes' },
  { name: 'admin', label: 'admin.nav', adminOnly: true },
];

function ConsoleHeader({
  guard,
  page,
  snapshot,
  onLogout,
  onShowCalls,
}: {
  guard: GuardInfo;
  page: PageName;
  snapshot: ConsoleSnapshot;
  onLogout: () => void;
  onShowCalls: () => void;
}) {
  const { t } = useT();
  const waiting = snapshot.calls.ringing.length;

  return (
    <header className="console-header">
      <p className="brand">{t('app.title')}</p>
      <nav className="nav" aria-label={t('nav.label')}>
        {pages
          .filter(({ adminOnly }) => !adminOnly || guard.role === 'admin')
          .map(({ name, label }) => (
            <a
              key={name}
              href={`#/${name}`}
              className="nav-link"
              aria-current={page === name ? 'page' : undefined}
              data-testid={`nav-${name}`}
            >
              {t(label)}
              {name === 'calls' && waiting > 0 && <span className="badge">{waiting}</span>}
            </a>
          ))}
      </nav>
      {page !== 'calls' && waiting > 0 && (
        <button type="button" className="button button-ring" onClick={onShowCalls}>
          {t('calls.waitingBanner', { count: waiting })}
        </button>
      )}
      <ConnectionBadge state={snapshot.calls.connection} />
      <div className="who">
        <span className="guard-name" data-testid="guard-name">
          {guard.name}
        </span>
        <LanguageSwitch />
        <button
          type="button"
          className="button button-quiet"
          data-testid="logout"
          onClick={onLogout}
        >
          {t('app.logout')}
        </button>
      </div>
    </header>
  );
}

function ConnectionBadge({ state }: { state: ConsoleSnapshot['calls']['connection'] }) {
  const { t } = useT();
  const labels = {
    connected: t('connection.connected'),
    connecting: t('connection.connecting'),
    disconnected: t('connection.disconnected'),
  };

  return (
    <span
      className={`connection connection-${state}`}
      role="status"
      data-testid="console-connection"
      data-state={state}
    >
      <span className="light" aria-hidden="true" />
      {labels[state]}
    </span>
  );
}
