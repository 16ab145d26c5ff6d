/**
 * Issues a visitor pass: the server signs it with the site key, the page shows it as a QR code
 * to send to the visitor, with the token to copy. Nothing is kept in the page after it closes.
 */
import QRCode from 'qrcode';
import { useState, type FormEvent } from 'react';
import type { ConsoleApi, IssuedPass, PassRequest } from '../api.js';
import { copyText } from '../components/copy-text.js';
import { fieldText } from '../components/field-text.js';
import { errorCodeOf, errorMessageKey } from '../error-message.js';
import { formatMoment } from '../format.js';
import { useT } from '../i18n/index.js';

interface Issued {
  pass: IssuedPass;
  qrDataUrl: string;
  /** Local epoch ms the pass arrived, for writing its expiry as today or another day. */
  issuedAt: number;
}

/** The passes page. */
export function PassesPage({ api }: { api: ConsoleApi }) {
  const { t } = useT();
  const [busy, setBusy] = useState(false);
  const [issued, setIssued] = useState<Issued | null>(null);
  const [errorCode, setErrorCode] = useState<string | null>(null);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setErrorCode(null);

    issue(api, passRequest(new FormData(event.currentTarget)))
      .then(setIssued, (error: unknown) => {
        setIssued(null);
        setErrorCode(errorCodeOf(error));
      })
      .finally(() => setBusy(false));
  };

  return (
    <main className="page passes-page">
      <h1>{t('passes.title')}</h1>
      <div className="passes-layout">
        <PassForm busy={busy} onSubmit={submit} />
        <div className="pass-result">
          {errorCode && (
            <p
              className="notice notice-error"
              role="alert"
              data-testid="pass-error"
              data-code={errorCode}
            >
              {errorCode === 'not_configured'
                ? t('passes.notConfigured')
                : t(errorMessageKey(errorCode))}
            </p>
          )}
          {issued && <IssuedPassCard issued={issued} />}
        </div>
      </div>
    </main>
  );
}

function PassForm({
  busy,
  onSubmit,
}: {
  busy: boolean;
  onSubmit: (event: FormEvent<HTMLFormElement>) => void;
}) {
  const { t } = useT();

  return (
    <form className="card pass-form" onSubmit={onSubmit}>
      <label className="field">
        <span>{t('passes.visitorName')}</span>
        <input name="visitorName" required maxLength={64} autoComplete="off" />
      </label>
      <label className="field">
        <span>{t('passes.hostUnit')}</span>
        <input
          name="hostUnit"
          required
          maxLength={128}
          autoComplete="off"
          placeholder={t('passes.hostUnitExample')}
        />
      </label>
      <label className="field">
        <span>{t('passes.validHours')}</span>
        <input
          name="validHours"
          type="number"
          required
          min={1}
          max={720}
          step={1}
          defaultValue={24}
        />
      </label>
      <label className="field">
        <span>{t('passes.entries')}</span>
        <input name="entries" type="number" required min={1} max={50} step={1} defaultValue={1} />
      </label>
      <button
        type="submit"
        className="button button-primary"
        data-testid="pass-submit"
        disabled={busy}
      >
        {busy ? t('passes.issuing') : t('passes.issue')}
      </button>
    </form>
  );
}

function IssuedPassCard({ issued }: { issued: Issued }) {
  const { t, locale } = useT();
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const { pass } = issued;

  const copy = () => {
    copyText(pass.token).then(
      () => setCopied('yes'),
      () => setCopied('no'),
    );
  };

  return (
    <section className="card issued-pass" data-testid="issued-pass" aria-labelledby="issued-title">
      <h2 id="issued-title">{t('passes.issued')}</h2>
      <img
        className="pass-qr"
        data-testid="pass-qr"
        src={issued.qrDataUrl}
        alt={t('passes.qrAlt')}
      />
      <p>{t('passes.expires', { time: formatMoment(pass.expiresAt, issued.issuedAt, locale) })}</p>
      <code className="pass-token" data-testid="pass-token">
        {pass.token}
      </code>
      <button
        type="button"
        className="button button-secondary"
        data-testid="pass-copy"
        onClick={copy}
      >
        {t('passes.copy')}
      </button>
      {copied === 'yes' && <p role="status">{t('passes.copied')}</p>}
      {copied === 'no' && <p role="status">{t('passes.copyFailed')}</p>}
    </section>
  );
}

/** The form's fields as the API takes them; the server checks the limits again. */
export function passRequest(form: FormData): PassRequest {
  return {
    visitorName: fieldText(form, 'visitorName').trim(),
    hostUnit: fieldText(form, 'hostUnit').trim(),
    validHours: Number(form.get('validHours')),
    entries: Number(form.get('entries')),
  };
}

async function issue(api: ConsoleApi, request: PassRequest): Promise<Issued> {
  const pass = await api.issuePass(request);
  // Medium error correction survives a cracked phone screen; the margin is the scanner's quiet zone.
  const qrDataUrl = await QRCode.toDataURL(pass.token, {
    errorCorrectionLevel: 'M',
    margin: 2,
    width: 320,
  });

  return { pass, qrDataUrl, issuedAt: Date.now() };
}
