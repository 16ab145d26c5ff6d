/**
 * Ring groups: the guards a kiosk's calls ring together. A kiosk names its ring group when it is
 * enrolled or edited; here admins create groups, choose or change who is in each, and delete a
 * group no kiosk rings any more.
 */
import { useT } from '../i18n/index.js';
import { DoneNotice, EditAndConfirm, FormErrorNotice, SubmitButton } from './AdminParts.js';
import type { AdminApi, AdminKiosk, GuardAccount, RingGroup } from './api.js';
import { readRingGroupForm, ringGroupDeleteFailure, ringGroupFailure } from './forms.js';
import { roleLabels } from './GuardsSection.js';
import { useAdminForm } from './use-admin-form.js';
import { useListEditing } from './use-list-editing.js';

/** The ring groups section; `onChanged` reloads what the page shows. */
export function RingGroupsSection({
  api,
  ringGroups,
  guards,
  kiosks,
  onChanged,
}: {
  api: AdminApi;
  ringGroups: RingGroup[];
  guards: GuardAccount[];
  kiosks: AdminKiosk[];
  onChanged: () => void;
}) {
  const { t } = useT();
  const list = useListEditing<RingGroup>(onChanged);
  const { editing } = list;

  const onSaved = (group: RingGroup) => {
    list.stopEditing();
    list.changed({
      message: { key: 'admin.ringGroups.done', values: { name: group.name } },
      testId: 'ring-group-saved',
    });
  };
  const onDeleted = (group: RingGroup) => {
    if (editing?.id === group.id) list.stopEditing();
    list.changed({
      message: { key: 'admin.ringGroups.deleteDone', values: { name: group.name } },
      testId: 'ring-group-deleted',
    });
  };

  return (
    <section className="admin-section" aria-labelledby="admin-ring-groups-title">
      <h2 id="admin-ring-groups-title">{t('admin.ringGroups.title')}</h2>
      <div className="admin-layout">
        <div className="admin-list">
          {list.done && <DoneNotice {...list.done} />}
          <RingGroupList
            api={api}
            ringGroups={ringGroups}
            guards={guards}
            kiosks={kiosks}
            onEdit={list.edit}
            onDeleted={onDeleted}
          />
        </div>
        <RingGroupForm
          // A new key per group resets the form's fields to that group's.
          key={editing?.id ?? ''}
          api={api}
          editing={editing}
          ringGroups={ringGroups}
          guards={guards}
          onSaved={onSaved}
          onCancel={list.stopEditing}
        />
      </div>
    </section>
  );
}

function RingGroupList({
  api,
  ringGroups,
  guards,
  kiosks,
  onEdit,
  onDeleted,
}: {
  api: AdminApi;
  ringGroups: RingGroup[];
  guards: GuardAccount[];
  kiosks: AdminKiosk[];
  onEdit: (group: RingGroup) => void;
  onDeleted: (group: RingGroup) => void;
}) {
  const { t } = useT();
  if (ringGroups.length === 0) return <p className="empty">{t('admin.ringGroups.none')}</p>;

  const nameOf = (id: number) => guards.find((guard) => guard.id === id)?.name ?? `#${id}`;

  return (
    <ul className="ring-group-list">
      {ringGroups.map((group) => {
        const ringing = kiosks.filter((kiosk) => kiosk.ringGroup === group.id && !kiosk.revoked);
        return (
          <li
            key={group.id}
            className="card ring-group"
            data-testid="ring-group-row"
            data-ring-group-id={group.id}
          >
            <div className="ring-group-head">
              <h3>
                {group.name} <code>{group.id}</code>
              </h3>
              <EditAndConfirm
                edit={{
                  label: t('admin.ringGroups.edit'),
                  testId: 'ring-group-edit',
                  onClick: () => onEdit(group),
                }}
                confirm={{
                  texts: {
                    label: t('admin.ringGroups.delete'),
                    question: t('admin.ringGroups.deleteQuestion', { name: group.name }),
                    confirm: t('admin.ringGroups.deleteConfirm'),
                    cancel: t('admin.ringGroups.deleteCancel'),
                  },
                  testId: 'ring-group-delete',
                  action: () => api.deleteRingGroup(group.id),
                  failure: ringGroupDeleteFailure,
                  onDone: () => onDeleted(group),
                }}
              />
            </div>
            <p data-testid="ring-group-guards">
              {group.guardIds.length === 0
                ? t('admin.ringGroups.noGuards')
                : t('admin.ringGroups.guards', { names: group.guardIds.map(nameOf).join(', ') })}
            </p>
            <p className="hint">
              {ringing.length === 0
                ? t('admin.ringGroups.noKiosks')
                : t('admin.ringGroups.kiosks', { names: ringing.map((k) => k.name).join(', ') })}
            </p>
          </li>
        );
      })}
    </ul>
  );
}

function RingGroupForm({
  api,
  editing,
  ringGroups,
  guards,
  onSaved,
  onCancel,
}: {
  api: AdminApi;
  editing: RingGroup | null;
  ringGroups: RingGroup[];
  guards: GuardAccount[];
  onSaved: (group: RingGroup) => void;
  onCancel: () => void;
}) {
  const { t } = useT();
  const { busy, error, submit } = useAdminForm({
    read: (form) => readRingGroupForm(form, ringGroups, editing !== null),
    send: (group) => api.saveRingGroup(group),
    failure: ringGroupFailure,
    onSent: (_saved, group) => onSaved(group),
  });

  return (
    <form className="card admin-form" onSubmit={submit} noValidate data-testid="ring-group-form">
      <h3>
        {editing
          ? t('admin.ringGroups.editTitle', { name: editing.name })
          : t('admin.ringGroups.add')}
      </h3>
      <label className="field">
        <span>{t('admin.ringGroups.id')}</span>
        <input
          name="ringGroupId"
          required
          maxLength={63}
          autoComplete="off"
          spellCheck={false}
          defaultValue={editing?.id}
          readOnly={editing !== null}
        />
        <small className="hint">{t('admin.ringGroups.idHint')}</small>
      </label>
      <label className="field">
        <span>{t('admin.ringGroups.name')}</span>
        <input
          name="ringGroupName"
          required
          maxLength={100}
          autoComplete="off"
          defaultValue={editing?.name}
        />
      </label>
      <fieldset className="guard-choice">
        <legend>{t('admin.ringGroups.members')}</legend>
        {guards.map((guard) => (
          <label key={guard.id} className="check">
            <input
              type="checkbox"
              name="ringGroupGuards"
              value={guard.id}
              defaultChecked={editing?.guardIds.includes(guard.id) ?? false}
            />
            <span>
              {guard.name} <small className="hint">{t(roleLabels[guard.role])}</small>
              {guard.disabled && <small className="hint"> · {t('admin.guards.disabled')}</small>}
            </span>
          </label>
        ))}
      </fieldset>
      <div className="admin-actions">
        <SubmitButton label={t('admin.ringGroups.submit')} testId="ring-group-submit" busy={busy} />
        {editing && (
          <button
            type="button"
            className="button button-secondary"
            data-testid="ring-group-cancel"
            onClick={onCancel}
          >
            {t('admin.ringGroups.cancel')}
          </button>
        )}
      </div>
      {error && <FormErrorNotice error={error} testId="ring-group-error" />}
    </form>
  );
}
