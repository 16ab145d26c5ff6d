/** One admin change at a time from a list's buttons, and what the last one came to. */
import { useCallback, useState } from 'react';
import type { Message } from './AdminParts.js';
import type { FormError } from './forms.js';

/** What the last change came to: a line saying what was done, or why it was refused. */
export type ActionOutcome = { done: Message } | { error: FormError };

/** Runs a change of the admin's choosing; `outcome` is cleared when the next one starts. */
export interface AdminAction {
  busy: boolean;
  outcome: ActionOutcome | null;
  run(change: () => Promise<unknown>, done: Message, failure: (error: unknown) => FormError): void;
  /** Shows `done` for a change made elsewhere (a confirm button) and reloads. */
  succeeded(done: Message): void;
  clear(): void;
}

/** The admin action state of one section; `onDone` reloads what the page shows. */
export function useAdminAction(onDone: () => void): AdminAction {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ActionOutcome | null>(null);

  const run = useCallback<AdminAction['run']>(
    (change, done, failure) => {
      setBusy(true);
      setOutcome(null);
      change()
        .then(
          () => {
            setOutcome({ done });
            onDone();
          },
          (error: unknown) => setOutcome({ error: failure(error) }),
        )
        .finally(() => setBusy(false));
    },
    [onDone],
  );
  const succeeded = useCallback(
    (done: Message) => {
      setOutcome({ done });
      onDone();
    },
    [onDone],
  );
  const clear = useCallback(() => setOutcome(null), []);

  return { busy, outcome, run, succeeded, clear };
}
