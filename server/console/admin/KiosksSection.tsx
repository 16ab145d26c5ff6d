/**
 * Kiosk enrolment, editing and revocation. The server hands out a kiosk's secret once, at
 * enrolment: the page shows it until the admin closes it and never keeps it anywhere else.
 */
import { useState, type FormEvent } from 'react';
import { useT } from '../i18n/index.js';
import { ConfirmButton, CopyButton, DoneNotice, FormErrorNotice } from './AdminParts.js';
import type { AdminApi, AdminKiosk, EnrolledKiosk, RingGroup } from './api.js';
import {
  kioskEditFailure,
  kioskFailure,
  readKioskEditForm,
  readKioskForm,
  revokeFailure,
  type FormError,
} from './forms.js';
import { kioskChannelUrl, kioskConfigSnippet } from './kiosk-config.js';

/** The kiosks section; `onChanged` reloads what the page shows. */
export function KiosksSection({
  api,
  kiosks,
  ringGroups,
  onChanged,
}: {
  api: AdminApi;
  kiosks: AdminKiosk[];
  ringGroups: RingGroup[];
  onChanged: () => void;
}) {
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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FormError | null>(null);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const checked = readKioskForm(new FormData(form));
    setError(checked.ok ? null : checked.error);
    if (!checked.ok) return;

    setBusy(true);
    api
      .enrolKiosk(checked.value)
      .then(
        (kiosk) => {
          form.reset();
          onEnrolled(kiosk);
        },
        (failure: unknown) => setError(kioskFailure(failure)),
      )
      .finally(() => setBusy(false));
  };

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
      <label className="field">
        <span>{t('admin.kiosks.ringGroup')}</span>
        <select name="kioskRingGroup" defaultValue={ringGroups[0]?.id ?? ''}>
          <option value="">{t('admin.kiosks.noRingGroup')}</option>
          {ringGroups.map((group) => (
            <option key={group.id} value={group.id}>
              {group.name}
            </option>
          ))}
        </select>
        <small className="hint">{t('admin.kiosks.ringGroupHint')}</small>
      </label>
      <button
        type="submit"
        className="button button-primary"
        data-testid="kiosk-submit"
        disabled={busy}
      >
        {busy ? t('admin.saving') : t('admin.kiosks.submit')}
      </button>
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

function KioskTable({
  api,
  kiosks,
  ringGroups,
  onChanged,
}: {
  api: AdminApi;
  kiosks: AdminKiosk[];
  ringGroups: RingGroup[];
  onChanged: () => void;
}) {
  const { t } = useT();
  const [done, setDone] = useState<{ text: string; testId: string } | null>(null);
  const [editing, setEditing] = useState<AdminKiosk | null>(null);
  if (kiosks.length === 0) return <p className="empty">{t('admin.kiosks.none')}</p>;

  const groupName = (id: string | null) =>
    id === null ? t('admin.kiosks.noRingGroup') : (ringGroups.find((g) => g.id === id)?.name ?? id);
  const revoked = (kiosk: AdminKiosk) => {
    setDone({ text: t('admin.kiosks.revokeDone', { name: kiosk.name }), testId: 'kiosk-revoked' });
    onChanged();
  };
  const edit = (kiosk: AdminKiosk) => {
    setDone(null);
    setEditing(kiosk);
  };
  const saved = (name: string) => {
    setEditing(null);
    setDone({ text: t('admin.kiosks.editDone', { name }), testId: 'kiosk-edited' });
    onChanged();
  };

  return (
    <div className="admin-list">
      {done && <DoneNotice text={done.text} testId={done.testId} />}
      {editing && (
        <KioskEditForm
          key={editing.id}
          api={api}
          kiosk={editing}
          ringGroups={ringGroups}
          onSaved={saved}
          onCancel={() => setEditing(null)}
        />
      )}
      <table className="admin-table">
        <thead>
          <tr>
            <th scope="col">{t('admin.kiosks.name')}</th>
            <th scope="col">{t('admin.kiosks.id')}</th>
            <th scope="col">{t('admin.kiosks.ringGroup')}</th>
            <th scope="col">{t('admin.kiosks.state')}</th>
            <th scope="col">
              <span className="visually-hidden">{t('admin.kiosks.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {kiosks.map((kiosk) => (
            <KioskRow
              key={kiosk.id}
              api={api}
              kiosk={kiosk}
              groupName={groupName(kiosk.ringGroup)}
              onEdit={() => edit(kiosk)}
              onRevoked={() => revoked(kiosk)}
            />
          ))}
        </tbody>
      </table>
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
          <div className="admin-actions">
            <button
              type="button"
              className="button button-quiet"
              data-testid="kiosk-edit"
              onClick={onEdit}
            >
              {t('admin.kiosks.edit')}
            </button>
            <ConfirmButton
              texts={{
                label: t('admin.kiosks.revoke'),
                question: t('admin.kiosks.revokeQuestion', { name: kiosk.name }),
                confirm: t('admin.kiosks.revokeConfirm'),
                cancel: t('admin.kiosks.revokeCancel'),
              }}
              testId="kiosk-revoke"
              action={() => api.revokeKiosk(kiosk.id)}
              failure={revokeFailure}
              onDone={onRevoked}
            />
          </div>
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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FormError | null>(null);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const checked = readKioskEditForm(new FormData(event.currentTarget));
    setError(checked.ok ? null : checked.error);
    if (!checked.ok) return;

    setBusy(true);
    api
      .updateKiosk(kiosk.id, checked.value)
      .then(
        (updated) => onSaved(updated.name),
        (failure: unknown) => setError(kioskEditFailure(failure)),
      )
      .finally(() => setBusy(false));
  };

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
      <label className="field">
        <span>{t('admin.kiosks.ringGroup')}</span>
        <select name="kioskEditRingGroup" defaultValue={kiosk.ringGroup ?? ''}>
          <option value="">{t('admin.kiosks.noRingGroup')}</option>
          {ringGroups.map((group) => (
            <option key={group.id} value={group.id}>
              {group.name}
            </option>
          ))}
        </select>
        <small className="hint">{t('admin.kiosks.editNote')}</small>
      </label>
      <div className="admin-actions">
        <button
          type="submit"
          className="button button-primary"
          data-testid="kiosk-edit-submit"
          disabled={busy}
        >
          {busy ? t('admin.saving') : t('admin.kiosks.editSubmit')}
        </button>
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
