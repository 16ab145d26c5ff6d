/**
 * The call the guard holds: the visitor's video large (with sound), what the kiosk knows beside
 * it, and the decisions. Open is one click, disabled only while an open is on its way.
 */
import { useEffect, useRef, useState, type RefObject } from 'react';
import { secondsLeft } from '../format.js';
import { useT, type TranslationKey } from '../i18n/index.js';
import type { ConsoleStore } from '../console-store.js';
import { chooseCamera } from '../preferences.js';
import { useNow } from '../use-now.js';
import type { CallMediaState } from './call-media.js';
import type { ActiveCall } from './call-state.js';
import { CallContextPanel } from './CallContextPanel.js';

/** What the panel and its action bar are drawn from. */
interface ActiveCallProps {
  call: ActiveCall;
  media: CallMediaState | null;
  shareCamera: boolean;
  store: ConsoleStore;
}

/** The panel of the active `call`. */
export function ActiveCallPanel({ call, media, shareCamera, store }: ActiveCallProps) {
  const { t } = useT();

  return (
    <section
      className="active-call"
      data-testid="active-call"
      data-call-id={call.callId}
      aria-labelledby="active-call-title"
    >
      <header className="active-call-header">
        <h2 id="active-call-title">{t('call.title', { kiosk: call.kioskName })}</h2>
        {call.endingSoon && <EndingSoon endsAt={call.endsAt} />}
      </header>
      <div className="active-call-body">
        <CallVideo call={call} media={media} />
        <CallContextPanel context={call.context} />
      </div>
      <CallActions call={call} media={media} shareCamera={shareCamera} store={store} />
      {call.refusal && (
        <p
          className="notice notice-warning"
          role="alert"
          data-testid="call-refused"
          data-code={call.refusal.code}
        >
          {t(`refusal.${call.refusal.code}` as TranslationKey)}
        </p>
      )}
    </section>
  );
}

function EndingSoon({ endsAt }: { endsAt: number }) {
  const { t } = useT();
  const now = useNow(250);

  return (
    <p className="notice notice-warning ending-soon" role="alert" data-testid="ending-soon">
      {t('call.endingSoon', { seconds: secondsLeft(endsAt, now) })}
    </p>
  );
}

function CallVideo({ call, media }: { call: ActiveCall; media: CallMediaState | null }) {
  const { t } = useT();
  const remoteVideo = useRef<HTMLVideoElement>(null);
  const localVideo = useRef<HTMLVideoElement>(null);
  const remote = useStreamVideo(remoteVideo, media?.remoteStream ?? null);
  useStreamVideo(localVideo, media?.cameraStream ?? null);
  const connection = media?.peer?.connectionState;

  return (
    <div className="call-video">
      <video
        ref={remoteVideo}
        className="visitor-video"
        data-testid="visitor-video"
        autoPlay
        playsInline
      />
      {!call.here && <p className="video-overlay">{t('call.otherDevice')}</p>}
      {call.here && !media?.remoteStream && (
        <p className="video-overlay" data-testid="video-connecting">
          {t('call.connecting')}
        </p>
      )}
      {call.here && (connection === 'disconnected' || connection === 'failed') && (
        <p className="video-overlay video-overlay-warning">{t('call.reconnecting')}</p>
      )}
      {remote.blocked && (
        <button type="button" className="button button-primary video-play" onClick={remote.play}>
          {t('call.playSound')}
        </button>
      )}
      {media?.cameraStream && (
        <video
          ref={localVideo}
          className="self-view"
          data-testid="guard-preview"
          autoPlay
          playsInline
          muted
        />
      )}
      {media?.camera === 'unavailable' && (
        <p
          className="notice notice-warning camera-warning"
          role="alert"
          data-testid="camera-unavailable"
        >
          {t('call.noCamera')}
        </p>
      )}
      {media?.microphone === 'unavailable' && (
        <p className="notice notice-warning mic-warning" role="alert" data-testid="mic-unavailable">
          {t('call.noMicrophone')}
        </p>
      )}
    </div>
  );
}

/** Shows `stream` in the video element of `ref`; `blocked` when the browser refused to play it. */
function useStreamVideo(ref: RefObject<HTMLVideoElement | null>, stream: MediaStream | null) {
  const [blocked, setBlocked] = useState(false);

  const play = () => {
    const video = ref.current;
    if (!video) return;

    video.play().then(
      () => setBlocked(false),
      (error: unknown) =>
        setBlocked(error instanceof DOMException && error.name === 'NotAllowedError'),
    );
  };

  useEffect(() => {
    const video = ref.current;
    if (!video || video.srcObject === stream) return;

    video.srcObject = stream;
    if (stream) play();
  });

  return { blocked, play };
}

function CallActions({ call, media, shareCamera, store }: ActiveCallProps) {
  const { t } = useT();
  const muted = media?.muted ?? false;
  // Before the media exists the button shows the choice the call will start with.
  const cameraOn = media ? media.camera === 'on' || media.camera === 'opening' : shareCamera;

  return (
    <div className="call-actions">
      <div className="call-decision">
        <button
          type="button"
          className="button button-open"
          data-testid="open-gate"
          disabled={call.open === 'sending'}
          onClick={() => store.open()}
        >
          {call.open === 'sending' ? t('call.opening') : t('call.open')}
        </button>
        <button
          type="button"
          className="button button-deny"
          data-testid="deny"
          onClick={() => store.deny()}
        >
          {t('call.deny')}
        </button>
        {call.open === 'sent' && (
          <p className="notice notice-success" role="status" data-testid="open-sent">
            {t('call.openSent')}
          </p>
        )}
        {call.open === 'unconfirmed' && (
          <p className="notice notice-warning" role="alert" data-testid="open-unconfirmed">
            {t('call.openUnconfirmed')}
          </p>
        )}
      </div>
      <div className="call-controls">
        <button
          type="button"
          className="button button-secondary"
          data-testid="mute"
          aria-pressed={muted}
          disabled={!media || media.microphone !== 'on'}
          onClick={() => store.setMuted(!muted)}
        >
          {muted ? t('call.unmute') : t('call.mute')}
        </button>
        <button
          type="button"
          className="button button-secondary"
          data-testid="camera"
          aria-pressed={cameraOn}
          onClick={() => chooseCamera(store, !cameraOn)}
        >
          {cameraOn ? t('call.cameraOff') : t('call.cameraOn')}
        </button>
        <button
          type="button"
          className="button button-hangup"
          data-testid="hangup"
          onClick={() => store.hangUp()}
        >
          {t('call.hangUp')}
        </button>
      </div>
    </div>
  );
}
