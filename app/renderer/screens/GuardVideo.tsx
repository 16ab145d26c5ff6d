/**
 * The guard's picture and voice on the kiosk: shown large while talking, and kept on the opened
 * screen, where the guard may still say goodbye while the visitor walks through.
 */
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { watchPicture } from '../call/picture-watch.js';
import { moduleLogger } from '../log.js';
import { PersonIcon } from './Icons.js';

const log = moduleLogger('guard-video');

/**
 * The guard's picture and voice. The element is there from the start, hidden behind the avatar
 * while no picture comes (the guard may show or hide their camera at any time in the call),
 * because it also plays the guard's voice: it is never muted.
 */
export function GuardVideo({ stream }: { stream: MediaStream | null }) {
  const { t } = useTranslation();
  const videoRef = useRef<HTMLVideoElement | null>(null);
  const [hasPicture, setHasPicture] = useState(false);
  const [soundBlocked, setSoundBlocked] = useState(false);

  useEffect(() => {
    const video = videoRef.current;
    if (!video) return;

    video.srcObject = stream;
    setHasPicture(false);
    if (!stream) return undefined;

    playWithSound(video, setSoundBlocked);
    return watchPicture(video, setHasPicture);
  }, [stream]);

  const retrySound = () => {
    if (videoRef.current) playWithSound(videoRef.current, setSoundBlocked);
  };

  return (
    <div className="guard-view">
      <video
        ref={videoRef}
        className={hasPicture ? 'guard-video' : 'guard-video guard-video-waiting'}
        data-testid="guard-video"
        autoPlay
        playsInline
      />
      {!hasPicture && (
        <div className="guard-avatar" data-testid="guard-avatar">
          <PersonIcon className="icon avatar-icon" />
        </div>
      )}
      {soundBlocked && (
        <button
          type="button"
          className="button button-primary sound-blocked"
          data-testid="call-enable-sound"
          onClick={retrySound}
        >
          {t('inCall.enableSound')}
        </button>
      )}
    </div>
  );
}

// A browser that refuses sound without a touch on the page (a call started by a hardware button)
// is asked again on the visitor's first touch; Electron's kiosk window allows it from the start.
function playWithSound(video: HTMLVideoElement, setBlocked: (blocked: boolean) => void): void {
  video.play().then(
    () => setBlocked(false),
    (error: unknown) => {
      const name = error instanceof DOMException ? error.name : 'unknown';
      // A newer stream replacing this one interrupts play(): nothing is wrong then.
      if (name === 'AbortError') return;

      log.warn('guard video: play refused', { name });
      setBlocked(name === 'NotAllowedError');
    },
  );
}
