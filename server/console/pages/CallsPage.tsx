/**
 * The calls page, where a guard spends the shift: the active call large, the waiting calls above
 * everything else, and missed calls and the history beside (below on a phone). Its header holds
 * the guard's camera choice, made before a call rings rather than in the middle of one.
 */
import type { ConsoleApi } from '../api.js';
import { ActiveCallPanel } from '../calls/ActiveCallPanel.js';
import { CallHistory, MissedCalls } from '../calls/CallLists.js';
import { IncomingCalls } from '../calls/IncomingCalls.js';
import { CallNotices } from '../calls/CallNotices.js';
import { useCallHistory } from '../calls/use-call-history.js';
import type { ConsoleSnapshot, ConsoleStore } from '../console-store.js';
import { useT } from '../i18n/index.js';
import { chooseCamera } from '../preferences.js';

/** The calls page for the console's `store`. */
export function CallsPage({
  api,
  store,
  snapshot,
}: {
  api: ConsoleApi;
  store: ConsoleStore;
  snapshot: ConsoleSnapshot;
}) {
  const { calls } = snapshot;
  const history = useCallHistory(api, calls.historyVersion);

  return (
    <main className="calls-page">
      <header className="calls-header">
        <CameraToggle share={snapshot.shareCamera} store={store} />
      </header>
      <div className="calls-main">
        {calls.active && (
          <ActiveCallPanel
            call={calls.active}
            media={snapshot.media}
            shareCamera={snapshot.shareCamera}
            store={store}
          />
        )}
        <CallNotices calls={calls} onDismiss={() => store.dismiss()} />
        <IncomingCalls calls={calls} onAnswer={(callId) => store.answer(callId)} />
      </div>
      <aside className="calls-aside">
        <MissedCalls live={calls.missed} history={history} />
        <CallHistory history={history} />
      </aside>
    </main>
  );
}

/**
 * Whether the guard's camera goes with their voice when they answer. Remembered in this browser;
 * during a call it also shows or hides the camera at once, like the button beside the video.
 */
function CameraToggle({ share, store }: { share: boolean; store: ConsoleStore }) {
  const { t } = useT();

  return (
    <button
      type="button"
      className="button button-quiet camera-toggle"
      data-testid="camera-toggle"
      aria-pressed={share}
      title={t('calls.shareCameraHint')}
      onClick={() => chooseCamera(store, !share)}
    >
      <span className="light" aria-hidden="true" />
      {t('calls.shareCamera')}
    </button>
  );
}
