/**
 * Small pieces every admin section uses: a form's error, a success line, the outcome of a change,
 * a form's submit button, a list's table, a row's edit and confirm buttons, a button that asks
 * before it does what cannot be undone, a copy button.
 */
import { useState, type ReactNode } from 'react';
import { copyText } from '../components/copy-text.js';
import { useT, type TranslationKey } from '../i18n/index.js';
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

/** A message kept as its key and values, so it is translated when shown: it follows the language. */
export interface Message {
  key: TranslationKey;
  values?: Record<string, string | number>;
}

/** A line saying what was just done, and its test id. */
export interface DoneLine {
  message: Message;
  testId: string;
}

/** A line saying what was just done. */
export function DoneNotice({ message, testId }: DoneLine) {
  const { t } = useT();

  return (
    <p className="notice notice-success" role="status" data-testid={testId}>
      {t(message.key, message.values)}
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
  if ('done' in outcome) return <DoneNotice message={outcome.done} testId={`${testId}-done`} />;

  return <FormErrorNotice error={outcome.error} testId={`${testId}-error`} />;
}

/** A form's submit button; it waits, saying so, while the form is being sent. */
export function SubmitButton({
  label,
  testId,
  busy,
}: {
  label: string;
  testId: string;
  busy: boolean;
}) {
  const { t } = useT();

  return (
    <button type="submit" className="button button-primary" data-testid={testId} disabled={busy}>
      {busy ? t('admin.saving') : label}
    </button>
  );
}

/** A list as a table: one header per column, then one for the rows' buttons, named for readers. */
export function AdminTable({
  columns,
  actions,
  children,
}: {
  columns: string[];
  actions: string;
  children: ReactNode;
}) {
  return (
    <table className="admin-table">
      <thead>
        <tr>
          {columns.map((column) => (
            <th key={column} scope="col">
              {column}
            </th>
          ))}
          <th scope="col">
            <span className="visually-hidden">{actions}</span>
          </th>
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/** The buttons of a list item: edit, then a change that asks first (see ConfirmButton). */
export function EditAndConfirm({
  edit,
  confirm,
}: {
  edit: { label: string; testId: string; onClick: () => void };
  confirm: ConfirmButtonProps;
}) {
  return (
    <div className="admin-actions">
      <button
        type="button"
        className="button button-quiet"
        data-testid={edit.testId}
        onClick={edit.onClick}
      >
        {edit.label}
      </button>
      <ConfirmButton {...confirm} />
    </div>
  );
}

/** The words of a ConfirmButton. */
export interface ConfirmTexts {
  label: string;
  question: string;
  confirm: string;
  cancel: string;
}

/** What a ConfirmButton says, does, and makes of a refusal. */
export interface ConfirmButtonProps {
  texts: ConfirmTexts;
  testId: string;
  action: () => Promise<void>;
  failure: (error: unknown) => FormError;
  onDone: () => void;
}

/**
 * The first click asks, the second does it. Test ids: `testId` for the first button, then
 * `-ask` (the question), `-confirm`, `-cancel` and `-error`.
 */
export function ConfirmButton({ texts, testId, action, failure, onDone }: ConfirmButtonProps) {
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
