/**
 * The guard's side of a call's media: the microphone (always) and the camera (while the guard
 * shows it), and the WebRTC answerer that carries them. The kiosk offers; signals that arrive
 * before the microphone is ready wait here, so nothing of the offer is lost. The camera can be
 * turned on and off at any time in the call: the answerer swaps the track it sends.
 */
import {
  createCallPeer,
  type CallPeer,
  type CallPeerOptions,
  type CallPeerStates,
} from '../../../app/web/call-peer.js';
import { moduleLogger } from '../../../app/web/log.js';
import type { MediaConfig, Signal } from '../../../app/contract/intercom-protocol.js';

const log = moduleLogger('call-media');

/** What the active call panel shows of the media. */
export interface CallMediaState {
  callId: string;
  remoteStream: MediaStream | null;
  localStream: MediaStream | null;
  /** The microphone is being opened, is on, or could not be opened. */
  microphone: 'pending' | 'on' | 'unavailable';
  /** The guard's camera: sent to the kiosk while on; unavailable when it failed to open. */
  camera: 'off' | 'opening' | 'on' | 'unavailable';
  /** The camera's picture for the guard's self-view while it is on. */
  cameraStream: MediaStream | null;
  muted: boolean;
  peer: CallPeerStates | null;
}

/** What a call's media is built from. */
export interface CallMediaOptions {
  callId: string;
  media: MediaConfig;
  /** The guard's microphone (and camera), opened when the guard pressed Answer. */
  localStream: Promise<MediaStream | null>;
  sendSignal(signal: Signal): void;
  onChange(state: CallMediaState): void;
  createPeer?: (options: CallPeerOptions) => CallPeer;
  /** Opens the camera alone, when the guard turns it on during the call. */
  openCamera?: () => Promise<MediaStream>;
}

/** One answered call's media, from the Answer click to hang-up. */
export class CallMedia {
  readonly callId: string;
  readonly #options: CallMediaOptions;
  #peer: CallPeer | null = null;
  #waiting: Signal[] = [];
  #closed = false;
  #state: CallMediaState;
  /** Counts camera choices, so a camera that opens after the guard changed their mind is dropped. */
  #cameraChoice = 0;

  constructor(options: CallMediaOptions) {
    this.callId = options.callId;
    this.#options = options;
    this.#state = {
      callId: options.callId,
      remoteStream: null,
      localStream: null,
      microphone: 'pending',
      camera: 'off',
      cameraStream: null,
      muted: false,
      peer: null,
    };
    void options.localStream.then((stream) => this.#start(stream));
  }

  /** The media as the panel shows it now. */
  get state(): CallMediaState {
    return this.#state;
  }

  /** A signal from the kiosk; kept until the peer exists. */
  receive(signal: Signal): void {
    if (this.#closed) return;

    if (this.#peer) void this.#peer.receive(signal);
    else this.#waiting.push(signal);
  }

  /** Silences the guard's microphone; the visitor still sees the guard if the camera is on. */
  setMuted(muted: boolean): void {
    // Before the peer exists the microphone is set directly; start() keeps the choice.
    if (this.#peer) this.#peer.setMuted(muted);
    else
      for (const track of this.#state.localStream?.getAudioTracks() ?? []) track.enabled = !muted;
    this.#update({ muted });
  }

  /** Shows or hides the guard's camera to the visitor, at once; off also frees the camera. */
  setCameraOn(on: boolean): void {
    const { camera } = this.#state;
    if (this.#closed || (on && (camera === 'on' || camera === 'opening'))) return;

    this.#cameraChoice += 1;
    if (on) void this.#turnCameraOn(this.#cameraChoice);
    else this.#turnCameraOff();
  }

  /** Ends the media and frees the microphone and camera. */
  close(): void {
    if (this.#closed) return;

    this.#closed = true;
    this.#waiting = [];
    this.#peer?.close();
    stopTracks(this.#state.localStream);
    stopTracks(this.#state.cameraStream);
    log.info('media: closed', { callId: this.callId });
  }

  async #turnCameraOn(choice: number): Promise<void> {
    this.#update({ camera: 'opening' });
    const stream = await this.#openCamera();
    const track = stream?.getVideoTracks()[0] ?? null;
    if (this.#closed || choice !== this.#cameraChoice) return stopTracks(stream);

    if (!track) {
      stopTracks(stream);
      return this.#update({ camera: 'unavailable' });
    }

    // Before the peer exists, #start hands the camera over with the microphone.
    void this.#peer?.setVideoTrack(track);
    this.#update({ camera: 'on', cameraStream: stream });
    log.info('camera: on', { callId: this.callId });
  }

  async #openCamera(): Promise<MediaStream | null> {
    const open = this.#options.openCamera ?? openCameraAlone;
    try {
      return await open();
    } catch (error) {
      log.warn('camera: could not open', { error: String(error) });
      return null;
    }
  }

  #turnCameraOff(): void {
    void this.#peer?.setVideoTrack(null);
    // Only the picture: the camera may have come in one stream with the microphone.
    for (const track of this.#state.cameraStream?.getVideoTracks() ?? []) track.stop();
    this.#update({ camera: 'off', cameraStream: null });
    log.info('camera: off', { callId: this.callId });
  }

  #start(stream: MediaStream | null): void {
    if (this.#closed) return stopTracks(stream);

    for (const track of stream?.getAudioTracks() ?? []) track.enabled = !this.#state.muted;
    const hasMicrophone = (stream?.getAudioTracks().length ?? 0) > 0;
    this.#update({
      localStream: stream,
      microphone: hasMicrophone ? 'on' : 'unavailable',
      ...this.#cameraFrom(stream),
    });

    const create = this.#options.createPeer ?? createCallPeer;
    this.#peer = create({
      role: 'answerer',
      media: this.#options.media,
      localStream: stream,
      sendSignal: (signal) => this.#options.sendSignal(signal),
      onRemoteStream: (remote) => this.#update({ remoteStream: remote }),
      onStateChange: (peer) => this.#update({ peer }),
    });
    const camera = this.#state.cameraStream?.getVideoTracks()[0];
    if (camera && camera !== stream?.getVideoTracks()[0]) void this.#peer.setVideoTrack(camera);
    for (const signal of this.#waiting.splice(0)) void this.#peer.receive(signal);
  }

  // The camera opened with the microphone at Answer counts as on, unless the guard turned it off
  // (or on by itself) meanwhile.
  #cameraFrom(stream: MediaStream | null): Partial<CallMediaState> {
    const video = stream?.getVideoTracks() ?? [];
    if (video.length === 0) return {};

    if (this.#cameraChoice > 0) {
      for (const track of video) {
        stream?.removeTrack(track);
        track.stop();
      }
      return {};
    }
    return { camera: 'on', cameraStream: stream };
  }

  #update(change: Partial<CallMediaState>): void {
    if (this.#closed) return;

    this.#state = { ...this.#state, ...change };
    this.#options.onChange(this.#state);
  }
}

/**
 * Opens the guard's microphone, with the camera when `withCamera`. A camera that fails does not
 * cost the call its sound; with no microphone either, the guard still sees and hears the visitor.
 */
export async function openLocalMedia(
  withCamera: boolean,
  devices: Pick<MediaDevices, 'getUserMedia'> | undefined = navigator.mediaDevices,
): Promise<MediaStream | null> {
  if (!devices) {
    log.warn('media: no media devices (the page needs HTTPS or localhost)');
    return null;
  }

  const attempts: MediaStreamConstraints[] = withCamera
    ? [{ audio: true, video: true }, { audio: true }]
    : [{ audio: true }];
  for (const constraints of attempts) {
    try {
      return await devices.getUserMedia(constraints);
    } catch (error) {
      log.warn('media: could not open', {
        video: Boolean(constraints.video),
        error: String(error),
      });
    }
  }
  return null;
}

function openCameraAlone(): Promise<MediaStream> {
  if (!navigator.mediaDevices) return Promise.reject(new Error('no media devices'));

  return navigator.mediaDevices.getUserMedia({ video: true });
}

/** Stops every track of `stream`, freeing the devices. */
export function stopTracks(stream: MediaStream | null): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
