/** What happened last: how the held call ended, a refused answer, a channel error. */
import { errorMessageKey } from '../error-message.js';
import { useT, type TranslationKey } from '../i18n/index.js';
import type { CallState } from './call-state.js';

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
        >
          {t('calls.ended', {
            kiosk: lastEnded.kioskName,
            reason: t(`endReason.${lastEnded.reason}` as TranslationKey),
          })}
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
