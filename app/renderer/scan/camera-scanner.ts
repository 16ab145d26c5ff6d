/**
 * The kiosk camera: preview, QR scanning in a worker, and the visitor photo. The page owns the
 * camera, so scanning happens here; the core only hears about each code once, as a ScanReport.
 * If the camera is unplugged the scanner says so and reopens it when a device comes back.
 */
import type { ScanReport } from '../../contract/api.js';
import type { DecodedCode } from '../../common/qr-result.js';
import { moduleLogger } from '../log.js';
import { CameraError } from './camera-error.js';
import type { DecodeReply, DecodeRequest } from './decoder-protocol.js';
import { blobToBase64, fitJpeg, type JpegAttempt } from './jpeg-fit.js';
import { SeenCodes } from './seen-codes.js';

const log = moduleLogger('camera-scanner');

/** Frames are scaled down to this long side: enough for a phone-held pass, cheap to decode. */
const maxScanSide = 1280;
/** The photo keeps more detail than a scan frame, within the contract's byte limit. */
const maxPhotoSide = 1920;
/** A code that has not been in view for this long counts as gone: showing it again reports it. */
const forgetCodeAfterMs = 1500;

const cameraConstraints: MediaStreamConstraints = {
  audio: false,
  video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 720 } },
};

/** What the scanner needs from the page. */
export interface CameraScannerOptions {
  video: HTMLVideoElement;
  onCode(report: ScanReport): void;
  onError(code: string): void;
}

/** Runs one camera: start() opens it and scans, stop() releases everything it holds. */
export class CameraScanner {
  private readonly seen = new SeenCodes(forgetCodeAfterMs);
  private stream: MediaStream | null = null;
  private worker: Worker | null = null;
  /** Bumped by stop(): anything begun under an older session finds out and backs off. */
  private session = 0;
  private wanted = false;
  private frameInFlight = false;
  /** Set once the decoder cannot run: reported once, then no more frames are sent to it. */
  private decoderFailed = false;
  private nextFrameId = 0;
  private cancelFrame: (() => void) | null = null;

  constructor(private readonly options: CameraScannerOptions) {}

  /** Opens the camera, shows it in the video element and starts scanning. */
  async start(): Promise<void> {
    if (this.wanted) return;

    this.wanted = true;
    const session = this.session;
    this.decoderFailed = false;
    this.worker = this.createWorker();
    try {
      await this.openCamera(session);
    } catch (error) {
      // Leave nothing half-open, so the caller can simply call start() again.
      if (session === this.session) this.stop();
      throw error;
    }
  }

  /** Stops scanning and every camera track, including a stream that has not arrived yet. */
  stop(): void {
    if (!this.wanted) return;

    this.wanted = false;
    this.session += 1;
    navigator.mediaDevices?.removeEventListener('devicechange', this.reopen);
    this.stopFrames();
    this.releaseStream();
    this.worker?.terminate();
    this.worker = null;
    this.frameInFlight = false;
    this.seen.reset();
    log.info('camera: stopped');
  }

  /** Forgets the codes in view, so one still held up is reported again. */
  resetSeen(): void {
    this.seen.reset();
  }

  /** The current frame as base64 JPEG no larger than `maxBytes`. */
  async capturePhoto({ maxBytes }: { maxBytes: number }): Promise<string> {
    const { video } = this.options;
    if (!this.stream || video.videoWidth === 0) {
      throw new CameraError('camera_not_ready', 'photo: no camera frame yet');
    }

    const frame = drawFrame(video, maxPhotoSide);
    const blob = await fitJpeg((attempt) => encodeJpeg(frame, attempt), maxBytes);
    log.info('photo: captured', { bytes: blob.size });
    return blobToBase64(blob);
  }

  private async openCamera(session: number): Promise<void> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new CameraError('camera_unavailable', 'camera: this page has no camera access');
    }

    const stream = await navigator.mediaDevices.getUserMedia(cameraConstraints);
    if (session !== this.session) {
      // stop() ran while the permission prompt or device open was pending.
      stopTracks(stream);
      return;
    }

    this.stream = stream;
    for (const track of stream.getVideoTracks()) {
      track.addEventListener('ended', () => this.cameraLost(session));
    }
    await this.showPreview(stream, session);
    log.info('camera: started', { label: stream.getVideoTracks()[0]?.label ?? '' });
  }

  private async showPreview(stream: MediaStream, session: number): Promise<void> {
    const { video } = this.options;
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;

    try {
      await video.play();
    } catch (error) {
      // stop() clearing the source interrupts play(): not a failure.
      if (session !== this.session) return;
      throw error;
    }

    if (session === this.session) this.scheduleFrame(session);
  }

  private cameraLost(session: number): void {
    if (session !== this.session || !this.wanted) return;

    log.warn('camera: track ended');
    this.stopFrames();
    this.releaseStream();
    this.options.onError('camera_unavailable');
    navigator.mediaDevices?.addEventListener('devicechange', this.reopen);
  }

  /** Tries the camera again when devices change, until it opens or the scanner is stopped. */
  private readonly reopen = (): void => {
    if (!this.wanted || this.stream) return;

    navigator.mediaDevices.removeEventListener('devicechange', this.reopen);
    this.openCamera(this.session).catch((error: unknown) => {
      log.warn('camera: reopen failed', { reason: String(error) });
      if (this.wanted) navigator.mediaDevices.addEventListener('devicechange', this.reopen);
    });
  };

  private createWorker(): Worker {
    const worker = new Worker(new URL('./decoder.worker.ts', import.meta.url), {
      type: 'module',
    });
    worker.addEventListener('message', (event: MessageEvent<DecodeReply>) =>
      this.handleReply(event.data),
    );
    worker.addEventListener('error', () => this.decoderBroke('camera_decoder_failed'));

    return worker;
  }

  private scheduleFrame(session: number): void {
    const { video } = this.options;
    const next = () => this.sendFrame(session);
    if (typeof video.requestVideoFrameCallback === 'function') {
      const handle = video.requestVideoFrameCallback(next);
      this.cancelFrame = () => video.cancelVideoFrameCallback(handle);
    } else {
      const handle = requestAnimationFrame(next);
      this.cancelFrame = () => cancelAnimationFrame(handle);
    }
  }

  private stopFrames(): void {
    this.cancelFrame?.();
    this.cancelFrame = null;
  }

  /** Sends the current frame unless one is still being decoded: the worker never queues up. */
  private sendFrame(session: number): void {
    if (session !== this.session || !this.stream) return;

    const { video } = this.options;
    if (!this.frameInFlight && !this.decoderFailed && this.worker && video.videoWidth > 0) {
      const frame = drawFrame(video, maxScanSide);
      const pixels = frame
        .getContext('2d', { willReadFrequently: true })
        ?.getImageData(0, 0, frame.width, frame.height);
      if (pixels) {
        const request: DecodeRequest = { id: (this.nextFrameId += 1), frame: pixels };
        this.frameInFlight = true;
        this.worker.postMessage(request, [pixels.data.buffer]);
      }
    }

    this.scheduleFrame(session);
  }

  private handleReply(reply: DecodeReply): void {
    this.frameInFlight = false;
    if (!this.wanted) return;

    if ('error' in reply) {
      this.decoderBroke(reply.error);
      return;
    }

    this.reportNewCodes(reply.codes);
  }

  private decoderBroke(code: string): void {
    if (this.decoderFailed || !this.wanted) return;

    this.decoderFailed = true;
    log.error('decode: decoder failed, scanning stopped', { code });
    this.options.onError(code);
  }

  private reportNewCodes(codes: readonly DecodedCode[]): void {
    const byText = new Map(codes.map((code) => [code.text, code]));
    for (const text of this.seen.observe([...byText.keys()], performance.now())) {
      const code = byText.get(text);
      if (!code) continue;

      log.info('scan: code seen', {
        format: code.format,
        charset: code.charset,
        inverted: code.inverted,
      });
      this.options.onCode({
        text: code.text,
        bytesHex: code.bytesHex,
        charset: code.charset,
        source: 'camera',
      });
    }
  }

  private releaseStream(): void {
    if (this.stream) stopTracks(this.stream);
    this.stream = null;
    this.options.video.srcObject = null;
  }
}

function stopTracks(stream: MediaStream): void {
  for (const track of stream.getTracks()) track.stop();
}

/** Draws the video's current frame, scaled so its long side is at most `maxSide`. */
function drawFrame(video: HTMLVideoElement, maxSide: number): OffscreenCanvas {
  const scale = Math.min(1, maxSide / Math.max(video.videoWidth, video.videoHeight));
  const canvas = new OffscreenCanvas(
    Math.round(video.videoWidth * scale),
    Math.round(video.videoHeight * scale),
  );
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new CameraError('camera_not_ready', 'camera: no 2D canvas');

  context.drawImage(video, 0, 0, canvas.width, canvas.height);
  return canvas;
}

async function encodeJpeg(frame: OffscreenCanvas, attempt: JpegAttempt): Promise<Blob> {
  if (attempt.scale === 1)
    return frame.convertToBlob({ type: 'image/jpeg', quality: attempt.quality });

  const scaled = new OffscreenCanvas(
    Math.max(1, Math.round(frame.width * attempt.scale)),
    Math.max(1, Math.round(frame.height * attempt.scale)),
  );
  scaled.getContext('2d')?.drawImage(frame, 0, 0, scaled.width, scaled.height);
  return scaled.convertToBlob({ type: 'image/jpeg', quality: attempt.quality });
}
