/** The life of an admin form that asks the server for one thing: checked, sent, then emptied. */
import { useState, type FormEvent } from 'react';
import type { Checked, FormError } from './forms.js';

/** What a form is read into, where it goes, and what a refusal means. */
export interface AdminFormOptions<T, R> {
  read: (form: FormData) => Checked<T>;
  send: (value: T) => Promise<R>;
  failure: (error: unknown) => FormError;
  /** The server took `value`; the form is already empty again. */
  onSent: (result: R, value: T) => void;
}

/** A form's submit handler, `busy` while the request is on its way, `error` why it was not sent. */
export interface AdminForm {
  busy: boolean;
  error: FormError | null;
  submit: (event: FormEvent<HTMLFormElement>) => void;
}

/** Checks the form on submit and sends it only when it reads well; one request at a time. */
export function useAdminForm<T, R>(options: AdminFormOptions<T, R>): AdminForm {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FormError | null>(null);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const checked = options.read(new FormData(form));
    setError(checked.ok ? null : checked.error);
    if (!checked.ok) return;

    setBusy(true);
    options
      .send(checked.value)
      .then(
        (result) => {
          form.reset();
          options.onSent(result, checked.value);
        },
        (failure: unknown) => setError(options.failure(failure)),
      )
      .finally(() => setBusy(false));
  };

  return { busy, error, submit };
}
