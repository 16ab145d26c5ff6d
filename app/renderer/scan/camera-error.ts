/**
 * Camera-side failures the scanner reports. Codes start with `camera_`, which the screen maps to
 * its camera message; the browser's own DOMException names (NotAllowedError...) pass through as is.
 */
export type CameraErrorCode =
  'camera_unavailable' | 'camera_not_ready' | 'camera_decoder_failed' | 'camera_photo_too_large';

/** An error with a stable camera code, for the screen to translate and the log to carry. */
export class CameraError extends Error {
  constructor(
    readonly code: CameraErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CameraError';
  }
}
