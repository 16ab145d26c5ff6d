/**
 * Until the first click or key press the browser keeps the page silent: a toast says so and offers
 * the click. It floats above the page instead of taking a place in it, because the click that
 * unlocks the sound also removes it: a notice in the flow would move everything below it while
 * the guard is clicking there, and the click would miss (Answer, Issue pass).
 */
import { useSyncExternalStore } from 'react';
import { useT } from '../i18n/index.js';

/** The part of the ringer the notice reads. */
export interface SoundLock {
  readonly unlocked: boolean;
  unlock(): void;
  readonly subscribe: (listener: () => void) => () => void;
}

/** Says the ringing is silent until the guard clicks; gone once the sound is on. */
export function SoundNotice({ ringer }: { ringer: SoundLock }) {
  const { t } = useT();
  const isUnlocked = () => ringer.unlocked;
  const unlocked = useSyncExternalStore(ringer.subscribe, isUnlocked, isUnlocked);
  if (unlocked) return null;

  return (
    <aside
      className="notice notice-warning toast sound-notice"
      role="status"
      data-testid="sound-off"
    >
      {t('sound.off')}
      <button type="button" className="button button-quiet" onClick={() => ringer.unlock()}>
        {t('sound.enable')}
      </button>
    </aside>
  );
}
