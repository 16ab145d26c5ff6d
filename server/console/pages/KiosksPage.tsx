/** Every kiosk with its online light, refreshed every five seconds while the page is open. */
import { useCallback } from 'react';
import type { ConsoleApi, KioskEntry } from '../api.js';
import { errorMessageKey } from '../error-message.js';
import { formatMoment } from '../format.js';
import { useT } from '../i18n/index.js';
import { useNow } from '../use-now.js';
import { kioskRefreshMs, usePolled } from '../use-polled.js';

/** The kiosks page. */
export function KiosksPage({ api }: { api: ConsoleApi }) {
  const { t } = useT();
  const { kiosks, errorCode } = useKiosks(api);

  return (
    <main className="page kiosks-page">
      <h1>{t('kiosks.title')}</h1>
      {errorCode && (
        <p
          className="notice notice-error"
          role="alert"
          data-testid="kiosks-error"
          data-code={errorCode}
        >
          {t(errorMessageKey(errorCode))}
        </p>
      )}
      {kiosks === null && !errorCode && <p className="empty">{t('app.loading')}</p>}
      {kiosks?.length === 0 && <p className="empty">{t('kiosks.none')}</p>}
      {kiosks && kiosks.length > 0 && <KioskTable kiosks={kiosks} />}
    </main>
  );
}

function KioskTable({ kiosks }: { kiosks: KioskEntry[] }) {
  const { t } = useT();
  const now = useNow(30_000);

  return (
    <table className="kiosk-table">
      <thead>
        <tr>
          <th scope="col">{t('kiosks.state')}</th>
          <th scope="col">{t('kiosks.name')}</th>
          <th scope="col">{t('kiosks.id')}</th>
          <th scope="col">{t('kiosks.version')}</th>
          <th scope="col">{t('kiosks.lastSeen')}</th>
        </tr>
      </thead>
      <tbody>
        {kiosks.map((kiosk) => (
          <KioskRow key={kiosk.id} kiosk={kiosk} now={now} />
        ))}
      </tbody>
    </table>
  );
}

function KioskRow({ kiosk, now }: { kiosk: KioskEntry; now: number }) {
  const { t, locale } = useT();
  const state = kiosk.revoked ? 'revoked' : kiosk.online ? 'online' : 'offline';
  const stateText = {
    online: t('kiosks.online'),
    offline: t('kiosks.offline'),
    revoked: t('kiosks.revoked'),
  };
  const seen = kiosk.online ? kiosk.connectedAt : kiosk.lastSeenAt;

  return (
    <tr data-testid="kiosk-row" data-kiosk-id={kiosk.id} data-online={String(kiosk.online)}>
      <td data-label={t('kiosks.state')}>
        <span className={`kiosk-state kiosk-state-${state}`}>
          <span className="light" aria-hidden="true" />
          {stateText[state]}
        </span>
      </td>
      <td data-label={t('kiosks.name')}>{kiosk.name}</td>
      <td data-label={t('kiosks.id')}>
        <code>{kiosk.id}</code>
      </td>
      <td data-label={t('kiosks.version')}>{kiosk.version ?? '—'}</td>
      <td data-label={t('kiosks.lastSeen')}>
        {seen === null
          ? t('kiosks.never')
          : kiosk.online
            ? t('kiosks.onlineSince', { time: formatMoment(seen, now, locale) })
            : formatMoment(seen, now, locale)}
      </td>
    </tr>
  );
}

function useKiosks(api: ConsoleApi): { kiosks: KioskEntry[] | null; errorCode: string | null } {
  const load = useCallback(() => api.kiosks(), [api]);
  const { value, errorCode } = usePolled(load, kioskRefreshMs);

  return { kiosks: value, errorCode };
}
