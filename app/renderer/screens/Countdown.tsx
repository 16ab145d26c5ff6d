/** "Back to start in N s": the visitor sees how long the screen waits before giving up. */
import { useTranslation } from 'react-i18next';
import { useSecondsLeft } from '../countdown.js';

/** Shows the seconds left until `deadline`; nothing when the screen has no timeout. */
export function Countdown({ deadline }: { deadline: number | null }) {
  const { t } = useTranslation();
  const seconds = useSecondsLeft(deadline);
  if (seconds === null) return null;

  return (
    <p className="countdown" aria-live="off">
      {t('countdown.returning', { seconds })}
    </p>
  );
}
