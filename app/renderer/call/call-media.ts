/**
 * The kiosk's media for one answered call: camera and microphone out, the guard's voice and
 * picture in. The page only carries media: signals go to the core (which relays them to the
 * guard holding the call) and come back as events, and every connection state is reported to
 * the core's log. Stopping releases the camera, even when it is still being opened.
 */
import type { CommandInput, KioskApi } from '../../contract/api.js';
import type { MediaConfig, Signal } from '../../contract/intercom-protocol.js';
import { createCallPeer, type CallPeer, type CallPeerStates } from '../../web/call-peer.js';
import { errorCode } from '../error-message.js';
import { moduleLogger } from '../log.js';
import { cameraOpensSettled } from './camera-handover.js';

const log = moduleLogger('call-media');

// The scanner's own settings, so handing the camera over does not make the driver reconfigure it.
const cameraAndMicrophone: MediaStreamConstraints = {
  audio: { echoCancellation: true, noiseSuppression: true },
  video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 720 } },
};
const microphoneOnly: MediaStreamConstraints = { audio: cameraAndMicrophone.audio };

/** What the call's media needs from the page; tests replace the browser's parts. */
export interface CallMediaOptions {
  callId: string;
  media: MediaConfig;
  api: Pick<KioskApi, 'invoke' | 'on'>;
  onLocalStream(stream: MediaStream): void;
  onRemoteStream(stream: MediaStream): void;
  /** The camera (or the microphone too) could not be opened: the code of the failure. */
  onDeviceError(code: string): void;
  getUserMedia?: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
  createPeer?: typeof createCallPeer;
  /** Resolves when no other part of the page still holds or opens the camera. */
  cameraFree?: () => Promise<void>;
}

/** A running call's media; stop() ends it and releases the camera and microphone. */
export interface CallMediaSession {
  stop(): void;
}

/** Opens the camera and microphone, then offers them to the guard holding `callId`. */
export function startCallMedia(options: CallMediaOptions): CallMediaSession {
  const session = new CallMediaRun(options);
  void session.run();

  return { stop: () => session.stop() };
}

class CallMediaRun {
  readonly #options: CallMediaOptions;
  #stopped = false;
  #stream: MediaStream | null = null;
  #peer: CallPeer | null = null;
  #unsubscribe: (() => void) | null = null;

  constructor(options: CallMediaOptions) {
    this.#options = options;
  }

  async run(): Promise<void> {
    const { callId } = this.#options;
    try {
      await (this.#options.cameraFree ?? cameraOpensSettled)();
      if (this.#stopped) return;

      const stream = await this.#openDevices();
      if (this.#stopped) return stopTracks(stream);

      this.#stream = stream;
      if (stream) this.#options.onLocalStream(stream);
      await this.#startPeer(stream);
    } catch (error) {
      log.error('call: media failed', { callId, error: errorCode(error) });
    }
  }

  stop(): void {
    if (this.#stopped) return;

    this.#stopped = true;
    this.#unsubscribe?.();
    this.#peer?.close();
    stopTracks(this.#stream);
    this.#stream = null;
    log.info('call: media stopped', { callId: this.#options.callId });
  }

  // Camera and microphone; the microphone alone if the camera fails; nothing if both fail. The
  // visitor still sees and hears the guard in every case.
  async #openDevices(): Promise<MediaStream | null> {
    const getUserMedia = this.#options.getUserMedia ?? browserGetUserMedia;
    try {
      return await getUserMedia(cameraAndMicrophone);
    } catch (error) {
      this.#deviceFailed('camera and microphone', error);
    }

    if (this.#stopped) return null;
    try {
      return await getUserMedia(microphoneOnly);
    } catch (error) {
      this.#deviceFailed('microphone', error);
      return null;
    }
  }

  #deviceFailed(devices: string, error: unknown): void {
    const code = errorCode(error);
    log.warn('call: devices unavailable', { devices, code });
    this.#options.onDeviceError(code);
  }

  async #startPeer(stream: MediaStream | null): Promise<void> {
    const { callId, media, api } = this.#options;
    const peer = (this.#options.createPeer ?? createCallPeer)({
      role: 'offerer',
      media,
      localStream: stream,
      sendSignal: (signal) => this.#sendSignal(signal),
      onRemoteStream: (remote) => this.#options.onRemoteStream(remote),
      onStateChange: (states) => this.#reportStates(states),
    });
    this.#peer = peer;
    // Subscribed before the offer goes out, so the guard's answer cannot slip past.
    this.#unsubscribe = api.on('call:signal', (payload) => {
      if (payload.callId === callId) void peer.receive(payload.signal);
      else log.warn('signal: for another call, ignored', { callId, other: payload.callId });
    });

    await peer.start();
  }

  #sendSignal(signal: Signal): void {
    this.#invoke('call:signal', { callId: this.#options.callId, signal });
  }

  #reportStates(states: CallPeerStates): void {
    this.#invoke('call:media', { callId: this.#options.callId, ...states });
  }

  // Signals and state reports are best effort: a lost one is logged, the visitor is not bothered.
  #invoke<C extends 'call:signal' | 'call:media'>(command: C, input: CommandInput<C>): void {
    if (this.#stopped) return;

    this.#options.api.invoke(command, input).catch((error: unknown) => {
      log.warn('call: command failed', { command, code: errorCode(error) });
    });
  }
}

function browserGetUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    return Promise.reject(new DOMException('This page has no media devices', 'NotFoundError'));
  }

  return navigator.mediaDevices.getUserMedia(constraints);
}

function stopTracks(stream: MediaStream | null): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
