/**
 * The guard's side of a call's media: the microphone (always) and the camera (if the guard shares
 * it), and the WebRTC answerer that carries them. The kiosk offers; signals that arrive before
 * the microphone is ready wait here, so nothing of the offer is lost.
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
  /** The call started with the guard's camera, so it can be paused and resumed. */
  hasCamera: boolean;
  cameraOn: boolean;
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
}

/** One answered call's media, from the Answer click to hang-up. */
export class CallMedia {
  readonly callId: string;
  readonly #options: CallMediaOptions;
  #peer: CallPeer | null = null;
  #waiting: Signal[] = [];
  #closed = false;
  #state: CallMediaState;

  constructor(options: CallMediaOptions) {
    this.callId = options.callId;
    this.#options = options;
    this.#state = {
      callId: options.callId,
      remoteStream: null,
      localStream: null,
      microphone: 'pending',
      hasCamera: false,
      cameraOn: false,
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

  /** Pauses or resumes the guard's camera, when the call started with it. */
  setCameraOn(on: boolean): void {
    const tracks = this.#state.localStream?.getVideoTracks() ?? [];
    if (tracks.length === 0) return;

    for (const track of tracks) track.enabled = on;
    this.#update({ cameraOn: on });
  }

  /** Ends the media and frees the microphone and camera. */
  close(): void {
    if (this.#closed) return;

    this.#closed = true;
    this.#waiting = [];
    this.#peer?.close();
    stopTracks(this.#state.localStream);
    log.info('media: closed', { callId: this.callId });
  }

  #start(stream: MediaStream | null): void {
    if (this.#closed) return stopTracks(stream);

    const hasCamera = (stream?.getVideoTracks().length ?? 0) > 0;
    for (const track of stream?.getAudioTracks() ?? []) track.enabled = !this.#state.muted;
    const hasMicrophone = (stream?.getAudioTracks().length ?? 0) > 0;
    this.#update({
      localStream: stream,
      hasCamera,
      cameraOn: hasCamera,
      microphone: hasMicrophone ? 'on' : 'unavailable',
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
    for (const signal of this.#waiting.splice(0)) void this.#peer.receive(signal);
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

/** Stops every track of `stream`, freeing the devices. */
export function stopTracks(stream: MediaStream | null): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
