/**
 * Kiosk enrolment, editing and revocation. The server hands out a kiosk's secret once, at
 * enrolment: the page shows it until the admin closes it and never keeps it anywhere else.
 */
import { useState } from 'react';
import { useT } from '../i18n/index.js';
import {
  AdminTable,
  CopyButton,
  DoneNotice,
  EditAndConfirm,
  FormErrorNotice,
  SubmitButton,
} from './AdminParts.js';
import type { AdminApi, AdminKiosk, EnrolledKiosk, RingGroup } from './api.js';
import {
  kioskEditFailure,
  kioskFailure,
  readKioskEditForm,
  readKioskForm,
  revokeFailure,
} from './forms.js';
import { kioskChannelUrl, kioskConfigSnippet } from './kiosk-config.js';
import { useAdminForm } from './use-admin-form.js';
import { useListEditing } from './use-list-editing.js';

/** What the section and its table are drawn from; `onChanged` reloads what the page shows. */
interface KiosksProps {
  api: AdminApi;
  kiosks: AdminKiosk[];
  ringGroups: RingGroup[];
  onChanged: () => void;
}

/** The kiosks section. */
export function KiosksSection({ api, kiosks, ringGroups, onChanged }: KiosksProps) {
  const { t } = useT();
  const [enrolled, setEnrolled] = useState<EnrolledKiosk | null>(null);

  const onEnrolled = (kiosk: EnrolledKiosk) => {
    setEnrolled(kiosk);
    onChanged();
  };

  return (
    <section className="admin-section" aria-labelledby="admin-kiosks-title">
      <h2 id="admin-kiosks-title">{t('admin.kiosks.title')}</h2>
      {enrolled && <EnrolledCard enrolled={enrolled} onDone={() => setEnrolled(null)} />}
      <div className="admin-layout">
        <KioskTable api={api} kiosks={kiosks} ringGroups={ringGroups} onChanged={onChanged} />
        <EnrolForm
          // The ring group choice starts at the first group; a new set of groups starts it anew.
          key={ringGroups.map((group) => group.id).join()}
          api={api}
          ringGroups={ringGroups}
          onEnrolled={onEnrolled}
        />
      </div>
    </section>
  );
}

function EnrolForm({
  api,
  ringGroups,
  onEnrolled,
}: {
  api: AdminApi;
  ringGroups: RingGroup[];
  onEnrolled: (kiosk: EnrolledKiosk) => void;
}) {
  const { t } = useT();
  const { busy, error, submit } = useAdminForm({
    read: readKioskForm,
    send: (kiosk) => api.enrolKiosk(kiosk),
    failure: kioskFailure,
    onSent: onEnrolled,
  });

  return (
    <form className="card admin-form" onSubmit={submit} noValidate>
      <h3>{t('admin.kiosks.enrol')}</h3>
      <label className="field">
        <span>{t('admin.kiosks.id')}</span>
        <input name="kioskId" required maxLength={63} autoComplete="off" spellCheck={false} />
        <small className="hint">{t('admin.kiosks.idHint')}</small>
      </label>
      <label className="field">
        <span>{t('admin.kiosks.name')}</span>
        <input name="kioskName" required maxLength={100} autoComplete="off" />
      </label>
      <RingGroupField
        name="kioskRingGroup"
        ringGroups={ringGroups}
        chosen={ringGroups[0]?.id ?? null}
        hint={t('admin.kiosks.ringGroupHint')}
      />
      <SubmitButton label={t('admin.kiosks.submit')} testId="kiosk-submit" busy={busy} />
      {error && <FormErrorNotice error={error} testId="kiosk-error" />}
    </form>
  );
}

/** The secret, once, with where it goes in the kiosk's configuration file. */
function EnrolledCard({ enrolled, onDone }: { enrolled: EnrolledKiosk; onDone: () => void }) {
  const { t } = useT();
  const { kiosk, secret } = enrolled;
  const snippet = kioskConfigSnippet(kioskChannelUrl(location.href), kiosk.id, secret);

  return (
    <div className="card notice-success enrolled-kiosk" role="status" data-testid="kiosk-enrolled">
      <h3>{t('admin.kiosks.enrolled', { name: kiosk.name })}</h3>
      <p className="notice notice-warning">{t('admin.kiosks.secretOnce')}</p>
      <div className="secret-line">
        <code className="secret" data-testid="kiosk-secret">
          {secret}
        </code>
        <CopyButton text={secret} label={t('admin.kiosks.copySecret')} testId="kiosk-secret-copy" />
      </div>
      <p>{t('admin.kiosks.configNote')}</p>
      <pre className="config-snippet" data-testid="kiosk-config">
        {snippet}
      </pre>
      <p className="hint">{t('admin.kiosks.urlNote')}</p>
      <div className="admin-actions">
        <CopyButton
          text={snippet}
          label={t('admin.kiosks.copyConfig')}
          testId="kiosk-config-copy"
        />
        <button
          type="button"
          className="button button-primary"
          data-testid="kiosk-secret-done"
          onClick={onDone}
        >
          {t('admin.kiosks.secretDone')}
        </button>
      </div>
    </div>
  );
}

function KioskTable({ api, kiosks, ringGroups, onChanged }: KiosksProps) {
  const { t } = useT();
  const list = useListEditing<AdminKiosk>(onChanged);
  if (kiosks.length === 0) return <p className="empty">{t('admin.kiosks.none')}</p>;

  const groupName = (id: string | null) =>
    id === null ? t('admin.kiosks.noRingGroup') : (ringGroups.find((g) => g.id === id)?.name ?? id);
  const revoked = (kiosk: AdminKiosk) =>
    list.changed({
      message: { key: 'admin.kiosks.revokeDone', values: { name: kiosk.name } },
      testId: 'kiosk-revoked',
    });
  const saved = (name: string) => {
    list.stopEditing();
    list.changed({
      message: { key: 'admin.kiosks.editDone', values: { name } },
      testId: 'kiosk-edited',
    });
  };

  return (
    <div className="admin-list">
      {list.done && <DoneNotice {...list.done} />}
      {list.editing && (
        <KioskEditForm
          key={list.editing.id}
          api={api}
          kiosk={list.editing}
          ringGroups={ringGroups}
          onSaved={saved}
          onCancel={list.stopEditing}
        />
      )}
      <AdminTable
        columns={[
          t('admin.kiosks.name'),
          t('admin.kiosks.id'),
          t('admin.kiosks.ringGroup'),
          t('admin.kiosks.state'),
        ]}
        actions={t('admin.kiosks.actions')}
      >
        {kiosks.map((kiosk) => (
          <KioskRow
            key={kiosk.id}
            api={api}
            kiosk={kiosk}
            groupName={groupName(kiosk.ringGroup)}
            onEdit={() => list.edit(kiosk)}
            onRevoked={() => revoked(kiosk)}
          />
        ))}
      </AdminTable>
    </div>
  );
}

function KioskRow({
  api,
  kiosk,
  groupName,
  onEdit,
  onRevoked,
}: {
  api: AdminApi;
  kiosk: AdminKiosk;
  groupName: string;
  onEdit: () => void;
  onRevoked: () => void;
}) {
  const { t } = useT();
  const state = kiosk.revoked ? 'revoked' : kiosk.online ? 'online' : 'offline';
  const stateText = {
    online: t('admin.kiosks.online'),
    offline: t('admin.kiosks.offline'),
    revoked: t('admin.kiosks.revoked'),
  };

  return (
    <tr data-testid="admin-kiosk-row" data-kiosk-id={kiosk.id} data-revoked={String(kiosk.revoked)}>
      <td data-label={t('admin.kiosks.name')}>{kiosk.name}</td>
      <td data-label={t('admin.kiosks.id')}>
        <code>{kiosk.id}</code>
      </td>
      <td data-label={t('admin.kiosks.ringGroup')}>{groupName}</td>
      <td data-label={t('admin.kiosks.state')}>
        <span className={`kiosk-state kiosk-state-${state}`}>
          <span className="light" aria-hidden="true" />
          {stateText[state]}
        </span>
      </td>
      <td>
        {!kiosk.revoked && (
          <EditAndConfirm
            edit={{ label: t('admin.kiosks.edit'), testId: 'kiosk-edit', onClick: onEdit }}
            confirm={{
              texts: {
                label: t('admin.kiosks.revoke'),
                question: t('admin.kiosks.revokeQuestion', { name: kiosk.name }),
                confirm: t('admin.kiosks.revokeConfirm'),
                cancel: t('admin.kiosks.revokeCancel'),
              },
              testId: 'kiosk-revoke',
              action: () => api.revokeKiosk(kiosk.id),
              failure: revokeFailure,
              onDone: onRevoked,
            }}
          />
        )}
      </td>
    </tr>
  );
}

/** A kiosk's name and ring group; a live call keeps its group, the next one takes the new. */
function KioskEditForm({
  api,
  kiosk,
  ringGroups,
  onSaved,
  onCancel,
}: {
  api: AdminApi;
  kiosk: AdminKiosk;
  ringGroups: RingGroup[];
  onSaved: (name: string) => void;
  onCancel: () => void;
}) {
  const { t } = useT();
  const { busy, error, submit } = useAdminForm({
    read: readKioskEditForm,
    send: (change) => api.updateKiosk(kiosk.id, change),
    failure: kioskEditFailure,
    onSent: (updated) => onSaved(updated.name),
  });

  return (
    <form className="card admin-form" onSubmit={submit} noValidate data-testid="kiosk-edit-form">
      <h3>{t('admin.kiosks.editTitle', { name: kiosk.name })}</h3>
      <label className="field">
        <span>{t('admin.kiosks.name')}</span>
        <input
          name="kioskEditName"
          required
          maxLength={100}
          autoComplete="off"
          defaultValue={kiosk.name}
        />
      </label>
      <RingGroupField
        name="kioskEditRingGroup"
        ringGroups={ringGroups}
        chosen={kiosk.ringGroup}
        hint={t('admin.kiosks.editNote')}
      />
      <div className="admin-actions">
        <SubmitButton label={t('admin.kiosks.editSubmit')} testId="kiosk-edit-submit" busy={busy} />
        <button
          type="button"
          className="button button-secondary"
          data-testid="kiosk-edit-cancel"
          onClick={onCancel}
        >
          {t('admin.kiosks.editCancel')}
        </button>
      </div>
      {error && <FormErrorNotice error={error} testId="kiosk-edit-error" />}
    </form>
  );
}

/** The choice of a kiosk's ring group, `chosen` first; the empty choice is no group. */
function RingGroupField({
  name,
  ringGroups,
  chosen,
  hint,
}: {
  name: string;
  ringGroups: RingGroup[];
  chosen: string | null;
  hint: string;
}) {
  const { t } = useT();

  return (
    <label className="field">
      <span>{t('admin.kiosks.ringGroup')}</span>
      <select name={name} defaultValue={chosen ?? ''}>
        <option value="">{t('admin.kiosks.noRingGroup')}</option>
        {ringGroups.map((group) => (
          <option key={group.id} value={group.id}>
            {group.name}
          </option>
        ))}
      </select>
      <small className="hint">{hint}</small>
    </label>
  );
}
