/**
 * What the kiosk knows about the visitor, beside the video: the snapshot photo, the code they
 * scanned and what the kiosk made of it, and where they are going. Names arrive masked.
 */
import type { CallContext } from '../../../app/contract/intercom-protocol.js';
import { refusalReasons } from '../../../app/contract/api.js';
import { useT, type TranslationKey } from '../i18n/index.js';

/** The context panel for `context` (null when the kiosk sent none). */
export function CallContextPanel({ context }: { context: CallContext | null }) {
  const { t } = useT();
  const scan = context?.scan ?? null;
  const photo = context?.photoJpegBase64;

  return (
    <section className="call-context" data-testid="call-context" aria-labelledby="context-title">
      <h3 id="context-title">{t('context.title')}</h3>
      {photo && (
        <img
          className="context-photo"
          data-testid="context-photo"
          src={`data:image/jpeg;base64,${photo}`}
          alt={t('context.photo')}
        />
      )}
      {scan ? (
        <dl className="context-facts">
          <dt>{t('context.scan')}</dt>
          <dd
            className={`verdict verdict-${scan.verdict}`}
            data-testid="context-verdict"
            data-verdict={scan.verdict}
          >
            {scan.verdict === 'accepted' ? t('context.scanAccepted') : t('context.scanRefused')}
          </dd>
          {scan.reason && (
            <>
              <dt>{t('context.reason')}</dt>
              <dd data-testid="context-reason">{reasonText(scan.reason, t)}</dd>
            </>
          )}
          {scan.maskedName && (
            <>
              <dt>{t('context.name')}</dt>
              <dd>{scan.maskedName}</dd>
            </>
          )}
          {scan.destination && (
            <>
              <dt>{t('context.destination')}</dt>
              <dd data-testid="context-destination">{scan.destination}</dd>
            </>
          )}
        </dl>
      ) : (
        <p className="empty">{t('context.noScan')}</p>
      )}
    </section>
  );
}

function reasonText(reason: string, t: ReturnType<typeof useT>['t']): string {
  if ((refusalReasons as readonly string[]).includes(reason)) {
    return t(`scanReason.${reason}` as TranslationKey);
  }
  return t('context.otherReason', { code: reason });
}
