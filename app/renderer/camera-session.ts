/**
 * One camera session from the scanning screen to the accepted screen: the same camera scans the
 * pass and then takes the visitor's photo, so the visitor is not asked twice and the photo is
 * taken the moment the gate opens. The camera is off everywhere else.
 */
import { useEffect, useRef, useState, type RefObject } from 'react';
import { maxPhotoBytes, type KioskView, type ScanReport } from '../contract/api.js';
import { noteCameraOpening } from './call/camera-handover.js';
import { CameraScanner } from './scan/camera-scanner.js';
import { errorCode } from './error-message.js';
import type { KioskActions } from './kiosk-context.js';
import { moduleLogger } from './log.js';

const log = moduleLogger('camera-session');

interface Session {
  scanner: CameraScanner;
  started: Promise<boolean>;
  stopped: boolean;
}

/** The video element to attach and the code of the camera's last failure, if any. */
export interface CameraSession {
  videoRef: RefObject<HTMLVideoElement | null>;
  cameraError: string | null;
}

/** Runs the camera while mounted; reports codes only on `scanning`, takes the photo on `accepted`. */
export function useCameraSession(view: KioskView, kiosk: KioskActions): CameraSession {
  const videoRef = useRef<HTMLVideoElement | null>(null);
  const sessionRef = useRef<Session | null>(null);
  const screenRef = useRef(view.screen);
  const [cameraError, setCameraError] = useState<string | null>(null);

  useEffect(() => {
    screenRef.current = view.screen;
  }, [view.screen]);

  useEffect(() => {
    const video = videoRef.current;
    if (!video) return undefined;

    const session = startSession(video, {
      // A code seen while verifying or after acceptance belongs to no one: the core wants one scan.
      onCode: (report: ScanReport) => {
        if (screenRef.current === 'scanning') kiosk.send('scan:report', report);
      },
      onError: setCameraError,
    });
    sessionRef.current = session;
    return () => {
      stopSession(session);
      sessionRef.current = null;
    };
  }, [kiosk]);

  const acceptedVisitId = view.screen === 'accepted' ? (view.accepted?.visitId ?? null) : null;
  const photoWanted = view.accepted?.photoWanted ?? false;

  useEffect(() => {
    const session = sessionRef.current;
    if (acceptedVisitId === null || !session) return;

    if (!photoWanted) {
      stopSession(session);
      return;
    }

    void takePhoto(session, acceptedVisitId, kiosk).finally(() => stopSession(session));
  }, [acceptedVisitId, photoWanted, kiosk]);

  return { videoRef, cameraError };
}

function startSession(
  video: HTMLVideoElement,
  handlers: Pick<ConstructorParameters<typeof CameraScanner>[0], 'onCode' | 'onError'>,
): Session {
  const onError = (code: string) => {
    log.warn('camera: failed', { code });
    handlers.onError(code);
  };
  const scanner = new CameraScanner({ video, onCode: handlers.onCode, onError });
  const started = scanner.start().then(
    () => true,
    (error: unknown) => {
      onError(errorCode(error));
      return false;
    },
  );
  noteCameraOpening(started);

  log.info('camera: session started');
  return { scanner, started, stopped: false };
}

function stopSession(session: Session): void {
  if (session.stopped) return;

  session.stopped = true;
  session.scanner.stop();
  log.info('camera: session stopped');
}

async function takePhoto(session: Session, visitId: string, kiosk: KioskActions): Promise<void> {
  if (!(await session.started) || session.stopped) return;

  try {
    const jpegBase64 = await session.scanner.capturePhoto({ maxBytes: maxPhotoBytes });
    await kiosk.api.invoke('photo:submit', { visitId, jpegBase64 });
    log.info('photo: submitted', { visitId });
  } catch (error) {
    // The gate is already open: a missing photo is logged, never shown to the visitor.
    log.warn('photo: failed', { visitId, code: errorCode(error) });
  }
}
