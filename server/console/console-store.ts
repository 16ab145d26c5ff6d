/**
 * The console's live state and the guard's actions on it. It owns the control connection, runs
 * every server message through the call reducer, gives signals to the active call's media, and
 * rings while calls wait. Pages read it through `subscribe`/`snapshot` (useSyncExternalStore).
 */
import type {
  GuardMessage,
  MediaConfig,
  ServerToGuardMessage,
} from '../../app/contract/intercom-protocol.js';
import { moduleLogger } from '../../app/web/log.js';
import {
  CallMedia,
  openLocalMedia,
  stopTracks,
  type CallMediaOptions,
  type CallMediaState,
} from './calls/call-media.js';
import {
  initialCallState,
  reduceCalls,
  type CallAction,
  type CallState,
} from './calls/call-state.js';
import { GuardSocket, guardChannelUrl, type ConnectionState } from './guard-socket.js';

const log = moduleLogger('console-store');

/** What the pages draw. */
export interface ConsoleSnapshot {
  calls: CallState;
  /** The media of the call this console holds, once it has any. */
  media: CallMediaState | null;
  /** The guard shares their camera in the next call (the microphone is always on). */
  shareCamera: boolean;
}

/** The control connection as the store uses it; GuardSocket in pages, a fake in tests. */
export interface ControlChannel {
  start(): void;
  stop(): void;
  send(message: GuardMessage): boolean;
  reconnectNow(): void;
}

/** How the store hears from its channel. */
export interface ChannelEvents {
  onMessage(message: ServerToGuardMessage): void;
  onState(state: ConnectionState): void;
  onSessionEnded(): void;
}

/** What the store is built from; every part has a browser default. */
export interface ConsoleStoreOptions {
  onSessionEnded(): void;
  /** Asked when the channel fails before opening: is the session still alive? */
  sessionAlive?: () => Promise<boolean>;
  openChannel?: (events: ChannelEvents) => ControlChannel;
  openMedia?: (withCamera: boolean) => Promise<MediaStream | null>;
  /** Opens the camera alone, when the guard turns it on in a call. */
  openCamera?: CallMediaOptions['openCamera'];
  /** Makes the WebRTC answerer; the browser's by default. */
  createPeer?: CallMediaOptions['createPeer'];
  /** Rings while calls wait; a no-op in tests. */
  ring?: (on: boolean, quiet: boolean) => void;
  shareCamera?: boolean;
  now?: () => number;
}

/** How long Open waits for the server's word before the guard may press it again. */
export const openConfirmMs = 5000;

// Notices ("answered by …") expire on this tick.
const tickMs = 1000;

/** The console's state and actions, alive from login to logout. */
export class ConsoleStore {
  readonly #options: ConsoleStoreOptions;
  readonly #channel: ControlChannel;
  readonly #now: () => number;
  readonly #listeners = new Set<() => void>();
  #snapshot: ConsoleSnapshot;
  #media: CallMedia | null = null;
  /** The microphone opened on Answer, until the server says whose the call is. */
  #pendingStream: Promise<MediaStream | null> | null = null;
  #ticker: ReturnType<typeof setInterval> | null = null;
  #openTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: ConsoleStoreOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#snapshot = { calls: initialCallState, media: null, shareCamera: !!options.shareCamera };
    const events: ChannelEvents = {
      onMessage: (message) => this.#received(message),
      onState: (state) => this.#dispatch({ type: 'connection', state }),
      onSessionEnded: () => options.onSessionEnded(),
    };
    this.#channel = (options.openChannel ?? this.#browserChannel.bind(this))(events);
  }

  /** Subscribes to changes; returns the unsubscribe. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** The current state; a new object after every change. */
  readonly snapshot = (): ConsoleSnapshot => this.#snapshot;

  /** Connects and starts the clock of the notices. */
  start(): void {
    this.#channel.start();
    this.#ticker ??= setInterval(() => this.#dispatch({ type: 'tick', at: this.#now() }), tickMs);
  }

  /** Disconnects, ends any media and stops ringing (logout, page left). */
  stop(): void {
    this.#channel.stop();
    if (this.#ticker !== null) clearInterval(this.#ticker);
    this.#ticker = null;
    this.#clearOpenTimer();
    this.#endMedia();
    this.#releasePendingStream();
    this.#options.ring?.(false, false);
    this.#notify();
  }

  /** Retries the connection at once (the browser is back online). */
  reconnectNow(): void {
    this.#channel.reconnectNow();
  }

  /** Takes a ringing call; the microphone opens meanwhile, so the media starts without delay. */
  answer(callId: string): void {
    const { calls } = this.#snapshot;
    if (calls.active || calls.answering) return;

    const stream = (this.#options.openMedia ?? openLocalMedia)(this.#snapshot.shareCamera);
    if (!this.#send({ type: 'answer', callId })) {
      void stream.then(stopTracks);
      return;
    }

    this.#pendingStream = stream;
    this.#dispatch({ type: 'answer', callId });
  }

  /** Opens the gate of the active call; ignored while an open is on its way. */
  open(): void {
    const active = this.#snapshot.calls.active;
    if (!active || active.open === 'sending') return;

    this.#dispatch({ type: 'open' });
    if (!this.#send({ type: 'open', callId: active.callId })) return;

    this.#clearOpenTimer();
    this.#openTimer = setTimeout(
      () => this.#dispatch({ type: 'open-unconfirmed', callId: active.callId }),
      openConfirmMs,
    );
  }

  /** Refuses entry; the server ends the call. */
  deny(): void {
    const active = this.#snapshot.calls.active;
    if (active) this.#send({ type: 'deny', callId: active.callId });
  }

  /** Ends the active call. */
  hangUp(): void {
    const active = this.#snapshot.calls.active;
    if (active) this.#send({ type: 'hangup', callId: active.callId });
  }

  /** Mutes or unmutes the guard's microphone in the active call. */
  setMuted(muted: boolean): void {
    this.#media?.setMuted(muted);
  }

  /** Shares the camera from now on: shows or hides it in the current call too. */
  setShareCamera(share: boolean): void {
    this.#media?.setCameraOn(share);
    this.#snapshot = { ...this.#snapshot, shareCamera: share };
    this.#notify();
  }

  /** Clears the last ended call and any refusal or error shown. */
  dismiss(): void {
    this.#dispatch({ type: 'dismiss' });
  }

  #browserChannel(events: ChannelEvents): ControlChannel {
    return new GuardSocket({
      url: guardChannelUrl(location.href),
      ...events,
      sessionAlive: this.#options.sessionAlive,
    });
  }

  #received(message: ServerToGuardMessage): void {
    if (message.type === 'signal') {
      if (this.#media?.callId === message.callId) this.#media.receive(message.signal);
      return;
    }

    if (message.type === 'open-sent' || message.type === 'ended') this.#clearOpenTimer();
    this.#dispatch({ type: 'received', message, at: this.#now() });
  }

  #send(message: GuardMessage): boolean {
    const sent = this.#channel.send(message);
    if (!sent) {
      log.warn('send: not connected', { type: message.type });
      this.#dispatch({
        type: 'received',
        message: { type: 'error', error: { code: 'disconnected', message: 'not connected' } },
        at: this.#now(),
      });
    }
    return sent;
  }

  #dispatch(action: CallAction): void {
    const calls = reduceCalls(this.#snapshot.calls, action);
    if (calls === this.#snapshot.calls) return;

    this.#snapshot = { ...this.#snapshot, calls };
    this.#followCalls(calls);
    this.#notify();
  }

  /** Starts or ends the media and the ringing to match the calls. */
  #followCalls(calls: CallState): void {
    const active = calls.active;
    if (this.#media && this.#media.callId !== active?.callId) this.#endMedia();
    if (active?.here && !this.#media) this.#startMedia(active.callId, active.media);
    if (!calls.answering && !active?.here) this.#releasePendingStream();

    this.#options.ring?.(calls.ringing.length > 0, active !== null);
  }

  #startMedia(callId: string, media: MediaConfig): void {
    const localStream = this.#pendingStream ?? Promise.resolve(null);
    this.#pendingStream = null;

    this.#media = new CallMedia({
      callId,
      media,
      localStream,
      sendSignal: (signal) => this.#channel.send({ type: 'signal', callId, signal }),
      onChange: (state) => this.#mediaChanged(state),
      createPeer: this.#options.createPeer,
      openCamera: this.#options.openCamera,
    });
  }

  #mediaChanged(state: CallMediaState): void {
    if (this.#media?.callId !== state.callId) return;

    this.#snapshot = { ...this.#snapshot, media: state };
    this.#notify();
  }

  #endMedia(): void {
    this.#media?.close();
    this.#media = null;
    this.#snapshot = { ...this.#snapshot, media: null };
  }

  #releasePendingStream(): void {
    const pending = this.#pendingStream;
    this.#pendingStream = null;
    void pending?.then(stopTracks);
  }

  #clearOpenTimer(): void {
    if (this.#openTimer !== null) clearTimeout(this.#openTimer);
    this.#openTimer = null;
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
