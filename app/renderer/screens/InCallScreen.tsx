/**
 * Talking to the guard: the guard's picture large (their camera is optional, so an avatar until
 * it arrives), the visitor's own picture small, and a plain statement that the guard can see
 * them. The page runs the media (see use-call-media.ts) and hands the streams in.
 */
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { KioskView } from '../../contract/api.js';
import type { CallMediaState } from '../call/use-call-media.js';
import { useSecondsLeft } from '../countdown.js';
import { useKiosk } from '../kiosk-context.js';
import { GuardVideo } from './GuardVideo.js';

/** The in-call screen for `view`, showing the call's `media`. */
export function InCallScreen({ view, media }: { view: KioskView; media: CallMediaState }) {
  const { t } = useTranslation();
  const kiosk = useKiosk();
  const { localStream, remoteStream, deviceError } = media;
  const seen = hasLiveVideo(localStream);

  return (
    <main className="screen screen-in-call" data-screen="inCall">
      <div className="call-stage">
        <GuardVideo stream={remoteStream} />
        {seen && <SelfView stream={localStream} />}
      </div>
      <div className="call-info">
        {/* A login name is for the guard room, not for visitors: the screen says only "a guard". */}
        <p className="guard-name">{t('inCall.talking')}</p>
        {seen && (
          <p className="sees-you" data-testid="guard-sees-you">
            {t('inCall.seesYou')}
          </p>
        )}
        {!seen && deviceError && (
          <p className="notice notice-warning" data-testid="call-camera-failed">
            {t('inCall.cameraFailed')}
          </p>
        )}
        {view.call?.endingSoon && <EndingSoon endsAt={view.call.endsAt} />}
        <button
          type="button"
          className="button button-hang-up"
          data-testid="call-hangup"
          onClick={() => kiosk.send('visitor:hangUp', {})}
        >
          {t('inCall.hangUp')}
        </button>
      </div>
    </main>
  );
}

/** The visitor's own picture, small and mirrored, so they see what the guard sees. */
function SelfView({ stream }: { stream: MediaStream | null }) {
  const videoRef = useRef<HTMLVideoElement | null>(null);

  useEffect(() => {
    if (videoRef.current) videoRef.current.srcObject = stream;
  }, [stream]);

  return (
    <video
      ref={videoRef}
      className="self-view"
      data-testid="self-view"
      autoPlay
      muted
      playsInline
    />
  );
}

function EndingSoon({ endsAt }: { endsAt: number | null }) {
  const { t } = useTranslation();
  const seconds = useSecondsLeft(endsAt);

  return (
    <p className="notice notice-warning" role="alert" data-testid="call-ending-soon">
      {seconds === null ? t('inCall.endingSoon') : t('inCall.endingIn', { seconds })}
    </p>
  );
}

function hasLiveVideo(stream: MediaStream | null): boolean {
  return stream?.getVideoTracks().some((track) => track.readyState === 'live') ?? false;
}
