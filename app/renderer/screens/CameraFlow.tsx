/**
 * Scanning, verifying and accepted share one component so the video element, and with it the
 * camera, lives from the first scan to the visitor photo. Leaving the flow unmounts it, which
 * turns the camera off.
 */
import type { KioskView } from '../../contract/api.js';
import { useCameraSession } from '../camera-session.js';
import { useKiosk } from '../kiosk-context.js';
import { AcceptedPanel } from './AcceptedScreen.js';
import { ScanningFooter, ScanningHeader } from './ScanningScreen.js';
import { VerifyingPanel } from './VerifyingScreen.js';

/** The screen for `view` when it is scanning, verifying or accepted. */
export function CameraFlow({ view }: { view: KioskView }) {
  const kiosk = useKiosk();
  const { videoRef, cameraError } = useCameraSession(view, kiosk);
  const scanning = view.screen === 'scanning';

  return (
    <main className={`screen screen-camera screen-${view.screen}`} data-screen={view.screen}>
      {scanning && <ScanningHeader key="scanning-header" />}
      {view.screen === 'verifying' && <VerifyingPanel key="verifying" />}
      {view.screen === 'accepted' && <AcceptedPanel key="accepted" accepted={view.accepted} />}
      {/* Hidden rather than removed after scanning: the photo is taken from this same video. */}
      <div key="camera" className={scanning ? 'camera' : 'camera camera-hidden'}>
        <video ref={videoRef} className="camera-video" autoPlay muted playsInline />
        <div className="camera-target" aria-hidden="true" />
      </div>
      {scanning && <ScanningFooter key="scanning-footer" view={view} cameraError={cameraError} />}
    </main>
  );
}
