/**
 * The waiting calls, oldest first: each card pulses while it rings, says which gate and how long
 * the visitor has waited, and answers with one click. A call another guard took says by whom.
 */
import { formatDuration } from '../format.js';
import { useT } from '../i18n/index.js';
import { useNow } from '../use-now.js';
import type { CallState, RingingCall } from './call-state.js';

/** The queue of `calls`; `onAnswer` takes a call. */
export function IncomingCalls({
  calls,
  onAnswer,
}: {
  calls: CallState;
  onAnswer: (callId: string) => void;
}) {
  const { t } = useT();
  const busy = calls.active !== null || calls.answering !== null;
  const empty = calls.ringing.length === 0 && calls.answeredElsewhere.length === 0;

  return (
    <section className="queue" aria-labelledby="queue-title">
      <h2 id="queue-title">
        {t('calls.queueTitle')}
        {calls.ringing.length > 0 && <span className="badge">{calls.ringing.length}</span>}
      </h2>
      {empty && !calls.active && (
        <p className="empty" data-testid="queue-empty">
          {calls.connection === 'connected' ? t('calls.queueEmpty') : t('calls.queueOffline')}
        </p>
      )}
      <ul className="queue-list">
        {calls.ringing.map((call) => (
          <IncomingCallCard
            key={call.callId}
            call={call}
            answering={calls.answering === call.callId}
            disabled={busy}
            inCall={calls.active !== null}
            onAnswer={() => onAnswer(call.callId)}
          />
        ))}
        {calls.answeredElsewhere.map((notice) => (
          <li
            key={notice.callId}
            className="call-card call-card-taken"
            data-testid="answered-by"
            data-call-id={notice.callId}
          >
            {t('calls.answeredBy', { kiosk: notice.kioskName, guard: notice.guard })}
          </li>
        ))}
      </ul>
    </section>
  );
}

function IncomingCallCard({
  call,
  answering,
  disabled,
  inCall,
  onAnswer,
}: {
  call: RingingCall;
  answering: boolean;
  disabled: boolean;
  inCall: boolean;
  onAnswer: () => void;
}) {
  const { t } = useT();
  const now = useNow(1000);
  const verdict = call.context?.scan?.verdict;

  return (
    <li
      className="call-card call-card-ringing"
      data-testid="incoming-call"
      data-call-id={call.callId}
    >
      <div className="call-card-text">
        <p className="kiosk-name">{call.kioskName}</p>
        <p className="waiting">
          {t('calls.waitingFor', { time: formatDuration(now - call.receivedAt) })}
        </p>
        {verdict && (
          <p className={`verdict verdict-${verdict}`}>
            {verdict === 'accepted' ? t('context.scanAccepted') : t('context.scanRefused')}
          </p>
        )}
      </div>
      <button
        type="button"
        className="button button-answer"
        data-testid="answer"
        disabled={disabled}
        title={inCall ? t('calls.finishCurrentFirst') : undefined}
        onClick={onAnswer}
      >
        {answering ? t('calls.answering') : t('calls.answer')}
      </button>
    </li>
  );
}
