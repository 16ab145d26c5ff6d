/** A failure told in the visitor's language: never a code or a stack. */
import { useTranslation } from 'react-i18next';
import { errorMessageKey } from '../error-message.js';

/** The translated message for `code`, announced to screen readers as it appears. */
export function ErrorNotice({ code, className = '' }: { code: string; className?: string }) {
  const { t } = useTranslation();

  return (
    <p className={`notice notice-error ${className}`} role="alert" data-error={code}>
      {t(errorMessageKey(code))}
    </p>
  );
}
