/** What the console remembers in this browser between visits. */

const cameraKey = 'guard-console.share-camera';

/** Whether the guard shares their camera in calls; off until they turn it on. */
export function readCameraPreference(): boolean {
  try {
    return localStorage.getItem(cameraKey) === 'on';
  } catch {
    return false;
  }
}

/** Remembers the camera choice; without storage (private mode) it lasts until the page closes. */
export function writeCameraPreference(share: boolean): void {
  try {
    localStorage.setItem(cameraKey, share ? 'on' : 'off');
  } catch {
    // Nothing to do: the choice still holds for this page.
  }
}

/** Applies the guard's camera choice to the console (and a call in progress) and remembers it. */
export function chooseCamera(
  store: { setShareCamera(share: boolean): void },
  share: boolean,
): void {
  writeCameraPreference(share);
  store.setShareCamera(share);
}
