/**
 * Missed calls and the call history. Missed calls come live from the channel and from the
 * history, so a call missed before this console connected is listed too.
 */
import type { CallEntry } from '../api.js';
import { errorMessageKey } from '../error-message.js';
import { formatDuration, formatMoment } from '../format.js';
import { useT } from '../i18n/index.js';
import { useNow } from '../use-now.js';
import type { MissedCall } from './call-state.js';
import { mergeMissed } from './missed.js';
import type { CallHistoryState } from './use-call-history.js';

/** Missed calls, newest first. */
export function MissedCalls({ live, history }: { live: MissedCall[]; history: CallHistoryState }) {
  const { t, locale } = useT();
  const now = useNow(60_000);
  const missed = mergeMissed(live, history.calls ?? []);

  return (
    <section className="list-section" aria-labelledby="missed-title">
      <h2 id="missed-title">{t('missed.title')}</h2>
      {missed.length === 0 && <p className="empty">{t('missed.none')}</p>}
      <ul className="missed-list" data-testid="missed-calls">
        {missed.map((call) => (
          <li
            key={call.callId}
            className="missed-call"
            data-testid="missed-call"
            data-call-id={call.callId}
          >
            <span className="kiosk-name">{call.kioskName}</span>
            <time dateTime={new Date(call.at).toISOString()}>
              {formatMoment(call.at, now, locale)}
            </time>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The latest calls with their outcome, newest first. */
export function CallHistory({ history }: { history: CallHistoryState }) {
  const { t, locale } = useT();
  const now = useNow(60_000);

  return (
    <section className="list-section" aria-labelledby="history-title">
      <h2 id="history-title">{t('history.title')}</h2>
      {history.errorCode && (
        <p className="notice notice-error" role="alert" data-testid="history-error">
          {t(errorMessageKey(history.errorCode))}
        </p>
      )}
      {history.calls?.length === 0 && <p className="empty">{t('history.none')}</p>}
      <ol className="history-list" data-testid="call-history">
        {(history.calls ?? []).map((call) => (
          <li
            key={call.callId}
            className={`history-row outcome-${call.outcome}`}
            data-testid="history-row"
            data-call-id={call.callId}
            data-outcome={call.outcome}
          >
            <time dateTime={new Date(call.ringStartedAt).toISOString()}>
              {formatMoment(call.ringStartedAt, now, locale)}
            </time>
            <span className="kiosk-name">{call.kioskName}</span>
            <span className="outcome">{outcomeText(call, t)}</span>
            <span className="detail">{detailText(call, t)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

function outcomeText(call: CallEntry, t: ReturnType<typeof useT>['t']): string {
  switch (call.outcome) {
    case 'opened':
      return t('outcome.opened');
    case 'denied':
      return t('outcome.denied');
    case 'missed':
      return t('outcome.missed');
    case 'cancelled':
      return t('outcome.cancelled');
    case 'ended':
      return t('outcome.ended');
    case 'live':
      return t('outcome.live');
  }
}

/** Who answered and for how long, when anyone did. */
function detailText(call: CallEntry, t: ReturnType<typeof useT>['t']): string {
  if (!call.guard || call.answeredAt === null) return '';
  if (call.endedAt === null) return call.guard;

  return t('history.guardAndLength', {
    guard: call.guard,
    length: formatDuration(call.endedAt - call.answeredAt),
  });
}
