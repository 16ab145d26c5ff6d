/** What happened last: how the held call ended, a refused answer, a channel error. */
import { errorMessageKey } from '../error-message.js';
import { useT, type TranslationKey } from '../i18n/index.js';
import type { CallState, EndedCall } from './call-state.js';

/** The notices of `calls`; `onDismiss` clears them. */
export function CallNotices({ calls, onDismiss }: { calls: CallState; onDismiss: () => void }) {
  const { t } = useT();
  const { lastEnded, refusal, channelError } = calls;
  if (!lastEnded && !refusal && !channelError) return null;

  return (
    <div className="notices">
      {lastEnded && (
        <p
          className="notice notice-info"
          role="status"
          data-testid="call-ended"
          data-reason={lastEnded.reason}
          data-opened={lastEnded.opened}
        >
          {t('calls.ended', { kiosk: lastEnded.kioskName, reason: endedBecause(lastEnded, t) })}
        </p>
      )}
      {refusal && (
        <p
          className="notice notice-warning"
          role="alert"
          data-testid="call-refused"
          data-code={refusal.code}
        >
          {t(`refusal.${refusal.code}` as TranslationKey)}
        </p>
      )}
      {channelError && (
        <p
          className="notice notice-error"
          role="alert"
          data-testid="channel-error"
          data-code={channelError}
        >
          {t(errorMessageKey(channelError))}
        </p>
      )}
      <button type="button" className="button button-quiet" onClick={onDismiss}>
        {t('calls.dismiss')}
      </button>
    </div>
  );
}

// After an open the kiosk hangs up by itself: that is the gate doing its job, not the visitor
// leaving.
function endedBecause(call: EndedCall, t: (key: TranslationKey) => string): string {
  if (call.opened && call.reason === 'hung_up_by_kiosk') return t('calls.endedAfterOpen');

  return t(`endReason.${call.reason}` as TranslationKey);
}
