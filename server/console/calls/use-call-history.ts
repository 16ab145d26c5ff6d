/** The call history from the server, fetched again whenever a call ends somewhere. */
import { useEffect, useState } from 'react';
import type { CallEntry, ConsoleApi } from '../api.js';
import { errorCodeOf } from '../error-message.js';

/** How many calls the history shows. */
export const historyLimit = 50;

/** The history and the code of the last failed fetch; `calls` is null until the first answer. */
export interface CallHistoryState {
  calls: CallEntry[] | null;
  errorCode: string | null;
}

/** Fetches the history now and each time `version` changes. */
export function useCallHistory(api: ConsoleApi, version: number): CallHistoryState {
  const [state, setState] = useState<CallHistoryState>({ calls: null, errorCode: null });

  useEffect(() => {
    let current = true;
    api.calls(historyLimit).then(
      (calls) => {
        if (current) setState({ calls, errorCode: null });
      },
      (error: unknown) => {
        if (current) setState((previous) => ({ ...previous, errorCode: errorCodeOf(error) }));
      },
    );

    return () => {
      current = false;
    };
  }, [api, version]);

  return state;
}
