/** Name and password; the server answers with a session cookie or a coded refusal. */
import { useState, type FormEvent } from 'react';
import type { ConsoleApi, GuardInfo } from '../api.js';
import { ApiError } from '../api.js';
import { fieldText } from '../components/field-text.js';
import { LanguageSwitch } from '../components/LanguageSwitch.js';
import { errorCodeOf, errorMessageKey } from '../error-message.js';
import { secondsLeft } from '../format.js';
import { useT } from '../i18n/index.js';
import { useNow } from '../use-now.js';

interface LoginError {
  code: string;
  /** Local epoch ms until which the server refuses logins (throttled). */
  retryAt: number | null;
}

/** The login page; `sessionEnded` says why it shows again. */
export function LoginPage({
  api,
  sessionEnded,
  startupError,
  onLoggedIn,
}: {
  api: ConsoleApi;
  sessionEnded: boolean;
  startupError: string | null;
  onLoggedIn: (guard: GuardInfo) => void;
}) {
  const { t } = useT();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<LoginError | null>(
    startupError ? { code: startupError, retryAt: null } : null,
  );

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);

    api
      .login(fieldText(form, 'name').trim(), fieldText(form, 'password'))
      .then(onLoggedIn, (failure: unknown) => {
        setBusy(false);
        setError(loginError(failure));
      });
  };

  return (
    <main className="page-center login-page">
      <form className="card login-form" onSubmit={submit} noValidate>
        <h1>{t('app.title')}</h1>
        {sessionEnded && (
          <p className="notice notice-info" role="status" data-testid="session-ended">
            {t('login.sessionEnded')}
          </p>
        )}
        <label className="field">
          <span>{t('login.name')}</span>
          <input name="name" autoComplete="username" required maxLength={64} autoFocus />
        </label>
        <label className="field">
          <span>{t('login.password')}</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            maxLength={256}
          />
        </label>
        <button
          type="submit"
          className="button button-primary"
          data-testid="login-submit"
          disabled={busy}
        >
          {busy ? t('login.submitting') : t('login.submit')}
        </button>
        {error && <LoginErrorNotice error={error} />}
        <LanguageSwitch />
      </form>
    </main>
  );
}

function LoginErrorNotice({ error }: { error: LoginError }) {
  const { t } = useT();
  const now = useNow(1000);

  return (
    <p
      className="notice notice-error"
      role="alert"
      data-testid="login-error"
      data-code={error.code}
    >
      {loginMessage(error, now, t)}
    </p>
  );
}

function loginMessage(error: LoginError, now: number, t: ReturnType<typeof useT>['t']): string {
  if (error.code === 'unauthorised') return t('login.wrongPassword');
  if (error.code === 'bad_payload') return t('login.missingFields');
  if (error.code !== 'throttled') return t(errorMessageKey(error.code));

  const seconds = error.retryAt === null ? null : secondsLeft(error.retryAt, now);
  return seconds ? t('login.throttled', { seconds }) : t('login.throttledOver');
}

function loginError(failure: unknown): LoginError {
  const retryAfter = failure instanceof ApiError ? failure.retryAfterSeconds : null;

  return {
    code: errorCodeOf(failure),
    retryAt: retryAfter === null ? null : Date.now() + retryAfter * 1000,
  };
}
