/**
 * The admin page: guards, kiosks and ring groups. Only admins see it in the navigation; anyone
 * else who opens its address is told so, and the server refuses their requests in any case.
 */
import type { GuardInfo } from '../api.js';
import { errorMessageKey } from '../error-message.js';
import { useT } from '../i18n/index.js';
import type { AdminApi } from './api.js';
import { GuardsSection } from './GuardsSection.js';
import { KiosksSection } from './KiosksSection.js';
import { RingGroupsSection } from './RingGroupsSection.js';
import { useAdminData } from './use-admin-data.js';
import './admin.css';

/** The admin page for `guard`. */
export function AdminPage({ api, guard }: { api: AdminApi; guard: GuardInfo }) {
  const { t } = useT();

  return (
    <main className="page admin-page">
      <h1>{t('admin.title')}</h1>
      {guard.role === 'admin' ? (
        <AdminSections api={api} self={guard.name} />
      ) : (
        <p className="notice notice-error" role="alert" data-testid="admin-refused">
          {t('admin.adminsOnly')}
        </p>
      )}
    </main>
  );
}

function AdminSections({ api, self }: { api: AdminApi; self: string }) {
  const { t } = useT();
  const { data, errorCode, reload } = useAdminData(api);

  return (
    <>
      {errorCode && (
        <p
          className="notice notice-error"
          role="alert"
          data-testid="admin-error"
          data-code={errorCode}
        >
          {t(errorMessageKey(errorCode))}{' '}
          <button type="button" className="button button-quiet" onClick={reload}>
            {t('admin.retry')}
          </button>
        </p>
      )}
      {data === null && !errorCode && <p className="empty">{t('app.loading')}</p>}
      {data && (
        <>
          <GuardsSection api={api} guards={data.guards} self={self} onChanged={reload} />
          <RingGroupsSection
            api={api}
            ringGroups={data.ringGroups}
            guards={data.guards}
            kiosks={data.kiosks}
            onChanged={reload}
          />
          <KiosksSection
            api={api}
            kiosks={data.kiosks}
            ringGroups={data.ringGroups}
            onChanged={reload}
          />
        </>
      )}
    </>
  );
}
