/** A short wait while the core checks the pass. */
import { useTranslation } from 'react-i18next';

/** A spinner and "Checking your pass…". */
export function VerifyingPanel() {
  const { t } = useTranslation();

  return (
    <div className="panel" role="status">
      <div className="spinner" aria-hidden="true" />
      <h1>{t('verifying.title')}</h1>
    </div>
  );
}
