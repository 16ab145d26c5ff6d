/** The end of a screen that closes a call: one way back to the start, and when it comes by itself. */
import { useKiosk } from '../kiosk-context.js';
import { Countdown } from './Countdown.js';

/** A back button labelled `label` (it cancels the visit) and the countdown to `deadline`. */
export function BackToStart({ label, deadline }: { label: string; deadline: number | null }) {
  const { send } = useKiosk();

  return (
    <>
      <div className="actions">
        <button
          type="button"
          className="button button-secondary"
          data-testid="cancel"
          onClick={() => send('visitor:cancel', {})}
        >
          {label}
        </button>
      </div>
      <Countdown deadline={deadline} />
    </>
  );
}
