/**
 * Guard accounts: who can log in to the console, a form to add one, and per account the changes
 * an admin makes: disable or enable, change the role, set a new password. The server keeps at
 * least one active admin and ends a disabled guard's sessions at once.
 */
import { useState, type FormEvent } from 'react';
import { useT, type TranslationKey } from '../i18n/index.js';
import {
  AdminTable,
  ConfirmButton,
  DoneNotice,
  FormErrorNotice,
  OutcomeNotice,
  SubmitButton,
  type Message,
} from './AdminParts.js';
import {
  guardRoles,
  type AdminApi,
  type GuardAccount,
  type GuardChange,
  type GuardRole,
} from './api.js';
import {
  guardChangeFailure,
  guardFailure,
  minPasswordLength,
  readGuardForm,
  readPasswordResetForm,
  type FormError,
} from './forms.js';
import { useAdminAction, type AdminAction } from './use-admin-action.js';
import { useAdminForm } from './use-admin-form.js';

/** Each role's name on the page. */
export const roleLabels: Record<GuardRole, TranslationKey> = {
  guard: 'admin.roles.guard',
  admin: 'admin.roles.admin',
};

/** The guards section; `self` is the admin's own name, `onChanged` reloads the page's data. */
export function GuardsSection({
  api,
  guards,
  self,
  onChanged,
}: {
  api: AdminApi;
  guards: GuardAccount[];
  self: string;
  onChanged: () => void;
}) {
  const { t } = useT();
  const action = useAdminAction(onChanged);
  const [resetting, setResetting] = useState<GuardAccount | null>(null);

  const reset = (guard: GuardAccount) => {
    action.clear();
    setResetting(guard);
  };
  const passwordSet = (change: () => Promise<unknown>, name: string) => {
    setResetting(null);
    action.run(change, { key: 'admin.guards.resetDone', values: { name } }, guardChangeFailure);
  };

  return (
    <section className="admin-section" aria-labelledby="admin-guards-title">
      <h2 id="admin-guards-title">{t('admin.guards.title')}</h2>
      <div className="admin-layout">
        <div className="admin-list">
          <OutcomeNotice outcome={action.outcome} testId="guard-change" />
          {resetting && (
            <PasswordResetForm
              key={resetting.id}
              api={api}
              guard={resetting}
              onSet={passwordSet}
              onCancel={() => setResetting(null)}
            />
          )}
          <GuardTable api={api} guards={guards} self={self} action={action} onReset={reset} />
        </div>
        <GuardForm api={api} onCreated={onChanged} />
      </div>
    </section>
  );
}

function GuardTable({
  api,
  guards,
  self,
  action,
  onReset,
}: {
  api: AdminApi;
  guards: GuardAccount[];
  self: string;
  action: AdminAction;
  onReset: (guard: GuardAccount) => void;
}) {
  const { t, locale } = useT();
  const day = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });

  return (
    <AdminTable
      columns={[
        t('admin.guards.name'),
        t('admin.guards.role'),
        t('admin.guards.created'),
        t('admin.guards.state'),
      ]}
      actions={t('admin.guards.actions')}
    >
      {guards.map((guard) => (
        <tr
          key={guard.id}
          data-testid="guard-row"
          data-guard-name={guard.name}
          data-role={guard.role}
          data-disabled={String(guard.disabled)}
        >
          <td data-label={t('admin.guards.name')}>
            {guard.name}
            {guard.name === self && <small className="hint"> {t('admin.you')}</small>}
          </td>
          <td data-label={t('admin.guards.role')}>{t(roleLabels[guard.role])}</td>
          <td data-label={t('admin.guards.created')}>{day.format(guard.createdAt)}</td>
          <td data-label={t('admin.guards.state')}>
            {guard.disabled ? t('admin.guards.disabled') : t('admin.guards.active')}
          </td>
          <td>
            <GuardActions api={api} guard={guard} action={action} onReset={() => onReset(guard)} />
          </td>
        </tr>
      ))}
    </AdminTable>
  );
}

/** A guard's changes: each button sends one PATCH and the section shows what came of it. */
function GuardActions({
  api,
  guard,
  action,
  onReset,
}: {
  api: AdminApi;
  guard: GuardAccount;
  action: AdminAction;
  onReset: () => void;
}) {
  const { t } = useT();
  const name = guard.name;
  const change = (body: GuardChange, done: Message) =>
    action.run(() => api.updateGuard(name, body), done, guardChangeFailure);
  const role: GuardRole = guard.role === 'admin' ? 'guard' : 'admin';

  return (
    <div className="admin-actions">
      {guard.disabled ? (
        <button
          type="button"
          className="button button-quiet"
          data-testid="guard-enable"
          disabled={action.busy}
          onClick={() =>
            change({ disabled: false }, { key: 'admin.guards.enabledDone', values: { name } })
          }
        >
          {t('admin.guards.enable')}
        </button>
      ) : (
        // Disabling logs the guard out everywhere, mid-call too: it asks first, like revoking a kiosk.
        <ConfirmButton
          texts={{
            label: t('admin.guards.disable'),
            question: t('admin.guards.disableQuestion', { name }),
            confirm: t('admin.guards.disableConfirm'),
            cancel: t('admin.guards.cancel'),
          }}
          testId="guard-disable"
          action={() => api.updateGuard(name, { disabled: true }).then(() => undefined)}
          failure={guardChangeFailure}
          onDone={() => action.succeeded({ key: 'admin.guards.disabledDone', values: { name } })}
        />
      )}
      <button
        type="button"
        className="button button-quiet"
        data-testid="guard-role"
        disabled={action.busy}
        onClick={() =>
          change(
            { role },
            {
              key: role === 'admin' ? 'admin.guards.madeAdminDone' : 'admin.guards.madeGuardDone',
              values: { name },
            },
          )
        }
      >
        {role === 'admin' ? t('admin.guards.makeAdmin') : t('admin.guards.makeGuard')}
      </button>
      <button
        type="button"
        className="button button-quiet"
        data-testid="guard-reset-password"
        disabled={action.busy}
        onClick={onReset}
      >
        {t('admin.guards.resetPassword')}
      </button>
    </div>
  );
}

/** A new password for `guard`, typed twice; the section sends it and shows the outcome. */
function PasswordResetForm({
  api,
  guard,
  onSet,
  onCancel,
}: {
  api: AdminApi;
  guard: GuardAccount;
  onSet: (change: () => Promise<unknown>, name: string) => void;
  onCancel: () => void;
}) {
  const { t } = useT();
  const [error, setError] = useState<FormError | null>(null);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const checked = readPasswordResetForm(new FormData(event.currentTarget));
    setError(checked.ok ? null : checked.error);
    if (!checked.ok) return;

    onSet(() => api.updateGuard(guard.name, { password: checked.value }), guard.name);
  };

  return (
    <form className="card admin-form" onSubmit={submit} noValidate data-testid="guard-reset-form">
      <h3>{t('admin.guards.resetTitle', { name: guard.name })}</h3>
      <p className="hint">{t('admin.guards.resetNote')}</p>
      {/* Tells a password manager whose password this is. */}
      <input
        type="text"
        name="username"
        autoComplete="username"
        value={guard.name}
        readOnly
        hidden
      />
      <label className="field">
        <span>{t('admin.guards.newPassword')}</span>
        <input name="resetPassword" type="password" required autoComplete="new-password" />
        <small className="hint">
          {t('admin.guards.passwordHint', { length: minPasswordLength })}
        </small>
      </label>
      <label className="field">
        <span>{t('admin.guards.passwordAgain')}</span>
        <input name="resetPasswordAgain" type="password" required autoComplete="new-password" />
      </label>
      <div className="admin-actions">
        <button type="submit" className="button button-primary" data-testid="guard-reset-submit">
          {t('admin.guards.resetSubmit')}
        </button>
        <button
          type="button"
          className="button button-secondary"
          data-testid="guard-reset-cancel"
          onClick={onCancel}
        >
          {t('admin.guards.cancel')}
        </button>
      </div>
      {error && <FormErrorNotice error={error} testId="guard-reset-error" />}
    </form>
  );
}

function GuardForm({ api, onCreated }: { api: AdminApi; onCreated: () => void }) {
  const { t } = useT();
  const [created, setCreated] = useState<string | null>(null);
  const { busy, error, submit } = useAdminForm({
    read: readGuardForm,
    send: (guard) => api.createGuard(guard),
    failure: guardFailure,
    onSent: (_id, guard) => {
      setCreated(guard.name);
      onCreated();
    },
  });

  // The line about the last guard added goes as soon as the next one is submitted.
  const submitNext = (event: FormEvent<HTMLFormElement>) => {
    setCreated(null);
    submit(event);
  };

  return (
    <form className="card admin-form" onSubmit={submitNext} noValidate>
      <h3>{t('admin.guards.add')}</h3>
      <label className="field">
        <span>{t('admin.guards.name')}</span>
        <input name="guardName" required maxLength={64} autoComplete="off" />
        <small className="hint">{t('admin.guards.nameHint')}</small>
      </label>
      <label className="field">
        <span>{t('admin.guards.password')}</span>
        <input name="guardPassword" type="password" required autoComplete="new-password" />
        <small className="hint">
          {t('admin.guards.passwordHint', { length: minPasswordLength })}
        </small>
      </label>
      <label className="field">
        <span>{t('admin.guards.passwordAgain')}</span>
        <input name="guardPasswordAgain" type="password" required autoComplete="new-password" />
      </label>
      <label className="field">
        <span>{t('admin.guards.role')}</span>
        <select name="guardRole" defaultValue="guard">
          {guardRoles.map((role) => (
            <option key={role} value={role}>
              {t(roleLabels[role])}
            </option>
          ))}
        </select>
      </label>
      <SubmitButton label={t('admin.guards.submit')} testId="guard-submit" busy={busy} />
      {error && <FormErrorNotice error={error} testId="guard-error" />}
      {created && (
        <DoneNotice
          message={{ key: 'admin.guards.done', values: { name: created } }}
          testId="guard-created"
        />
      )}
    </form>
  );
}
