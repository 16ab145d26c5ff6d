/**
 * Small pieces every admin section uses: a form's error, a success line, the outcome of a change,
 * a button that asks before it does what cannot be undone, a copy button.
 */
import { useState } from 'react';
import { copyText } from '../components/copy-text.js';
import { useT } from '../i18n/index.js';
import type { FormError } from './forms.js';
import type { ActionOutcome } from './use-admin-action.js';

/** Why a form was not sent or was refused; `data-code` carries the code for tests. */
export function FormErrorNotice({ error, testId }: { error: FormError; testId: string }) {
  const { t } = useT();

  return (
    <p className="notice notice-error" role="alert" data-testid={testId} data-code={error.code}>
      {t(error.key)}
    </p>
  );
}

/** A line saying what was just done. */
export function DoneNotice({ text, testId }: { text: string; testId: string }) {
  return (
    <p className="notice notice-success" role="status" data-testid={testId}>
      {text}
    </p>
  );
}

/** What the last change came to; test ids `<testId>-done` and `<testId>-error`. */
export function OutcomeNotice({
  outcome,
  testId,
}: {
  outcome: ActionOutcome | null;
  testId: string;
}) {
  if (!outcome) return null;
  if ('done' in outcome) return <DoneNotice text={outcome.done} testId={`${testId}-done`} />;

  return <FormErrorNotice error={outcome.error} testId={`${testId}-error`} />;
}

/** The words of a ConfirmButton. */
export interface ConfirmTexts {
  label: string;
  question: string;
  confirm: string;
  cancel: string;
}

/**
 * The first click asks, the second does it. Test ids: `testId` for the first button, then
 * `-ask` (the question), `-confirm`, `-cancel` and `-error`.
 */
export function ConfirmButton({
  texts,
  testId,
  action,
  failure,
  onDone,
}: {
  texts: ConfirmTexts;
  testId: string;
  action: () => Promise<void>;
  failure: (error: unknown) => FormError;
  onDone: () => void;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FormError | null>(null);

  const confirm = () => {
    setBusy(true);
    setError(null);
    action()
      .then(onDone, (caught: unknown) => setError(failure(caught)))
      .finally(() => setBusy(false));
  };

  if (!asking) {
    return (
      <button
        type="button"
        className="button button-quiet button-danger"
        data-testid={testId}
        onClick={() => setAsking(true)}
      >
        {texts.label}
      </button>
    );
  }

  return (
    <div className="confirm-ask" role="group" data-testid={`${testId}-ask`}>
      <p>{texts.question}</p>
      <div className="admin-actions">
        <button
          type="button"
          className="button button-hangup"
          data-testid={`${testId}-confirm`}
          disabled={busy}
          onClick={confirm}
        >
          {texts.confirm}
        </button>
        <button
          type="button"
          className="button button-secondary"
          data-testid={`${testId}-cancel`}
          disabled={busy}
          onClick={() => {
            setAsking(false);
            setError(null);
          }}
        >
          {texts.cancel}
        </button>
      </div>
      {error && <FormErrorNotice error={error} testId={`${testId}-error`} />}
    </div>
  );
}

/** Copies `text`; where the browser has no clipboard it says to select the text instead. */
export function CopyButton({
  text,
  label,
  testId,
}: {
  text: string;
  label: string;
  testId: string;
}) {
  const { t } = useT();
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);

  const copy = () => {
    copyText(text).then(
      () => setCopied('yes'),
      () => setCopied('no'),
    );
  };

  return (
    <span className="copy">
      <button type="button" className="button button-secondary" data-testid={testId} onClick={copy}>
        {label}
      </button>
      {copied === 'yes' && <span role="status">{t('admin.copied')}</span>}
      {copied === 'no' && <span role="status">{t('admin.copyFailed')}</span>}
    </span>
  );
}
