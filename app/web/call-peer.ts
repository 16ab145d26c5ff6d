/**
 * One end of a call's WebRTC media, shared by the kiosk page and the guard console. The roles
 * are fixed (the kiosk offers, the guard answers), so there is no glare to resolve and no perfect
 * negotiation. What matters is surviving a network drop without a page reload: the offerer
 * restarts ICE when the connection fails, or stays disconnected too long, or the answerer asks,
 * and keeps restarting, further apart, for as long as the connection stays down. The answerer
 * answers the offer's video sendrecv even without a camera, so the guard can show or hide their
 * picture during the call by swapping the sender's track, with no new offer.
 */
import type { MediaConfig, Signal } from '../contract/intercom-protocol.js';
import { assertNever } from '../common/errors.js';
import { moduleLogger } from './log.js';

const log = moduleLogger('call-peer');

/** The kiosk offers, the guard answers. */
export type CallRole = 'offerer' | 'answerer';

/** The two states a peer reports on every change, for logs and diagnostics. */
export interface CallPeerStates {
  iceConnectionState: RTCIceConnectionState;
  connectionState: RTCPeerConnectionState;
}

/** What a peer needs from the page that runs it. */
export interface CallPeerOptions {
  role: CallRole;
  /** ICE servers and transport policy from the `answered` message (the kiosk: view.call.media). */
  media: MediaConfig;
  /** Tracks to send; null when the page has neither camera nor microphone. */
  localStream: MediaStream | null;
  /** Carries a signal to the other end (kiosk: the call:signal command; guard: a signal message). */
  sendSignal(signal: Signal): void;
  onRemoteStream(stream: MediaStream): void;
  onStateChange?(states: CallPeerStates): void;
  /** How long `disconnected` may last before the offerer restarts ICE (default 2000 ms). */
  restartAfterMs?: number;
  /** How long the offerer waits for an answer before it sends the offer again (default 5000 ms). */
  answerTimeoutMs?: number;
  /** Makes the connection; tests pass a fake, pages leave the browser's RTCPeerConnection. */
  createPeerConnection?: (config: RTCConfiguration) => RTCPeerConnection;
}

/** A running call's media. */
export interface CallPeer {
  /** Offerer: creates and sends the offer. Answerer: nothing, it waits for the offer. */
  start(): Promise<void>;
  /** Applies a signal from the other end, in arrival order; failures are logged, never thrown. */
  receive(signal: Signal): Promise<void>;
  /** Silences the local microphone (the tracks stay, so unmuting needs no renegotiation). */
  setMuted(muted: boolean): void;
  /**
   * Sends `track` as the local picture, or no picture for null, on the video the call already
   * negotiated: no renegotiation. Before the offer (answerer) it is kept and sent with the answer.
   */
  setVideoTrack(track: MediaStreamTrack | null): Promise<void>;
  /** Ends the connection and every timer; the local stream is left to the page that owns it. */
  close(): void;
}

const defaultRestartAfterMs = 2000;
// A restart while the network is gone gathers nothing and the browser gives up on it without a
// state change, so the offerer tries again; at most this long apart, so media returns within
// about this long of the network.
const maxRestartIntervalMs = 10_000;
const defaultAnswerTimeoutMs = 5000;
const mediaKinds = ['audio', 'video'] as const;

/** Starts one end of a call; nothing is sent until start() (offerer) or an offer (answerer). */
export function createCallPeer(options: CallPeerOptions): CallPeer {
  return new WebRtcCallPeer(options);
}

class WebRtcCallPeer implements CallPeer {
  readonly #options: CallPeerOptions;
  readonly #pc: RTCPeerConnection;
  readonly #restartAfterMs: number;
  readonly #answerTimeoutMs: number;
  /** Remote candidates that came before the remote description they belong to. */
  readonly #pendingCandidates: RTCIceCandidateInit[] = [];
  /** Every negotiation step runs after the previous one, so signals apply in arrival order. */
  #steps: Promise<void> = Promise.resolve();
  #closed = false;
  #started = false;
  #localTracksAdded = false;
  #remoteStream: MediaStream | null = null;
  /** Offerer: the next restart attempt while the connection is down. */
  #recoveryTimer: ReturnType<typeof setTimeout> | null = null;
  /** Offerer: how long the connection may stay down before the next restart attempt. */
  #recoveryDelayMs: number;
  #answerTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * Offerer: the number of the latest offer. Offers carry it and answers echo it, so an answer
   * to an offer that was replaced (sent again, or restarted) is told apart and dropped.
   */
  #offerNumber = 0;
  /** Answerer: the number of the offer being answered, null when the offerer sent none. */
  #answeringNumber: number | null = null;
  /** Offerer: an ICE restart is queued or its answer is still awaited. */
  #restartPending = false;
  /** Offerer: a restart came while an earlier offer was unanswered; it runs after the answer. */
  #restartAfterAnswer = false;
  /** Answerer: the restart request for the current failure has gone out. */
  #restartAsked = false;
  /** The picture last asked for with setVideoTrack, until a video sender exists to carry it. */
  #videoTrack: { track: MediaStreamTrack | null } | null = null;

  constructor(options: CallPeerOptions) {
    this.#options = options;
    this.#restartAfterMs = options.restartAfterMs ?? defaultRestartAfterMs;
    this.#recoveryDelayMs = this.#restartAfterMs;
    this.#answerTimeoutMs = options.answerTimeoutMs ?? defaultAnswerTimeoutMs;
    const create = options.createPeerConnection ?? ((config) => new RTCPeerConnection(config));
    this.#pc = create({
      iceServers: options.media.iceServers,
      iceTransportPolicy: options.media.iceTransportPolicy,
    });

    this.#pc.onicecandidate = (event) => this.#sendCandidate(event.candidate);
    this.#pc.ontrack = (event) => this.#handleTrack(event);
    this.#pc.oniceconnectionstatechange = () => this.#handleStateChange();
    this.#pc.onconnectionstatechange = () => this.#handleStateChange();
    log.info('peer: created', { role: options.role, policy: options.media.iceTransportPolicy });
  }

  start(): Promise<void> {
    if (this.#options.role === 'answerer' || this.#started) return Promise.resolve();

    this.#started = true;
    return this.#enqueue('start', async () => {
      this.#addOffererTracks();
      await this.#applyVideoTrack();
      await this.#sendOffer(false);
    });
  }

  receive(signal: Signal): Promise<void> {
    return this.#enqueue(signal.kind, () => this.#apply(signal));
  }

  setMuted(muted: boolean): void {
    for (const track of this.#options.localStream?.getAudioTracks() ?? []) track.enabled = !muted;

    log.info('microphone: muted changed', { muted });
  }

  setVideoTrack(track: MediaStreamTrack | null): Promise<void> {
    this.#videoTrack = { track };
    return this.#enqueue('video', () => this.#applyVideoTrack());
  }

  close(): void {
    if (this.#closed) return;

    this.#closed = true;
    this.#clearRecoveryTimer();
    this.#clearAnswerTimer();
    this.#pendingCandidates.length = 0;
    this.#pc.onicecandidate = null;
    this.#pc.ontrack = null;
    this.#pc.oniceconnectionstatechange = null;
    this.#pc.onconnectionstatechange = null;
    this.#pc.close();
    log.info('peer: closed', { role: this.#options.role });
  }

  #enqueue(step: string, work: () => Promise<void>): Promise<void> {
    this.#steps = this.#steps.then(async () => {
      if (this.#closed) return;

      try {
        await work();
      } catch (error) {
        // One bad signal must not stop the ones after it: a restart may still recover the call.
        log.warn(`${step}: failed`, { error: describeError(error) });
      }
    });
    return this.#steps;
  }

  async #apply(signal: Signal): Promise<void> {
    switch (signal.kind) {
      case 'offer':
        return this.#handleOffer(signal.data);
      case 'answer':
        return this.#handleAnswer(signal.data);
      case 'ice':
        return this.#handleCandidate(signal.data);
      case 'restart':
        return this.#handleRestartRequest();
      default:
        return assertNever(signal.kind, 'signal kind');
    }
  }

  // ---- offerer ----

  // What the page has goes out; a kind it lacks is still received (a kiosk without a working
  // camera still sees and hears the guard).
  #addOffererTracks(): void {
    const kinds = this.#addLocalTracks();
    for (const kind of mediaKinds) {
      if (!kinds.has(kind)) this.#pc.addTransceiver(kind, { direction: 'recvonly' });
    }
  }

  async #sendOffer(iceRestart: boolean): Promise<void> {
    const offer = await this.#pc.createOffer(iceRestart ? { iceRestart: true } : undefined);
    if (this.#closed) return;

    await this.#pc.setLocalDescription(offer);
    if (this.#closed) return;

    this.#offerNumber += 1;
    const data = { type: 'offer', sdp: offer.sdp ?? '', offerNumber: this.#offerNumber };
    this.#send({ kind: 'offer', data });
    this.#awaitAnswer(iceRestart);
    log.info('offer: sent', { iceRestart, offerNumber: this.#offerNumber });
  }

  // An answer lost on the way (the control connection dropped with it, say) would leave the call
  // without media for good: after a while the offer goes out again instead.
  #awaitAnswer(iceRestart: boolean): void {
    this.#clearAnswerTimer();
    this.#answerTimer = setTimeout(() => {
      this.#answerTimer = null;
      void this.#enqueue('offer again', () => this.#offerAgain(iceRestart));
    }, this.#answerTimeoutMs);
  }

  async #offerAgain(iceRestart: boolean): Promise<void> {
    if (this.#pc.signalingState !== 'have-local-offer') return;

    // No rollback first: it would drop the media sections' ids, and the other end, which may have
    // taken the first offer after all, refuses an offer whose sections do not line up.
    log.warn('offer: unanswered, offering again', { offerNumber: this.#offerNumber });
    const restart = iceRestart || this.#restartAfterAnswer;
    this.#restartAfterAnswer = false;

    if (restart) this.#pc.restartIce();
    await this.#sendOffer(restart);
  }

  async #handleAnswer(data: unknown): Promise<void> {
    if (this.#options.role !== 'offerer') return log.warn('answer: ignored, this end answers');

    const answer = descriptionFrom(data, 'answer');
    if (!answer) return log.warn('answer: malformed');

    // A late or repeated answer (say, to an offer a restart replaced) must not break the call.
    const { offerNumber } = answer;
    if (offerNumber !== null && offerNumber !== this.#offerNumber) {
      return log.warn('answer: to a replaced offer, ignored', { offerNumber });
    }
    const { signalingState } = this.#pc;
    if (signalingState !== 'have-local-offer') {
      return log.warn('answer: ignored in this signalling state', { signalingState });
    }

    this.#clearAnswerTimer();
    await this.#pc.setRemoteDescription(answer.description);
    log.info('answer: applied', { offerNumber });
    await this.#addPendingCandidates();
    await this.#afterAnswer();
  }

  async #afterAnswer(): Promise<void> {
    if (this.#restartAfterAnswer) {
      this.#restartAfterAnswer = false;
      return this.#restartIce();
    }

    this.#restartPending = false;
  }

  #handleRestartRequest(): Promise<void> {
    if (this.#options.role !== 'offerer') {
      log.warn('restart: ignored, this end answers');
      return Promise.resolve();
    }

    this.#requestRestart('asked by the other end');
    return Promise.resolve();
  }

  #requestRestart(reason: string): void {
    if (this.#closed || this.#restartPending) return;

    this.#restartPending = true;
    log.info('restart: requested', { reason });
    void this.#enqueue('restart', () => this.#restartIce());
  }

  async #restartIce(): Promise<void> {
    if (this.#pc.signalingState === 'have-local-offer') {
      this.#restartAfterAnswer = true;
      return;
    }

    try {
      this.#pc.restartIce();
      await this.#sendOffer(true);
    } catch (error) {
      // Let the next failure or disconnection try again.
      this.#restartPending = false;
      throw error;
    }
  }

  // ---- answerer ----

  async #handleOffer(data: unknown): Promise<void> {
    if (this.#options.role !== 'answerer') return log.warn('offer: ignored, this end offers');

    const offer = descriptionFrom(data, 'offer');
    if (!offer) return log.warn('offer: malformed');

    this.#answeringNumber = offer.offerNumber;
    await this.#pc.setRemoteDescription(offer.description);
    // Added after the offer, so the tracks ride the offer's transceivers instead of new ones.
    if (!this.#localTracksAdded) {
      this.#addLocalTracks();
      this.#openVideoSending();
    }
    await this.#applyVideoTrack();
    await this.#addPendingCandidates();

    const answer = await this.#pc.createAnswer();
    if (this.#closed) return;

    await this.#pc.setLocalDescription(answer);
    if (this.#closed) return;

    const offerNumber = this.#answeringNumber;
    const echo = offerNumber === null ? {} : { offerNumber };
    this.#send({ kind: 'answer', data: { type: 'answer', sdp: answer.sdp ?? '', ...echo } });
    log.info('answer: sent', { offerNumber });
  }

  // A guard without a camera at answer time may turn one on later: the video is answered
  // sendrecv with no track yet, in the same stream as the voice, so the picture can start with a
  // track swap and arrives at the other end beside the voice.
  #openVideoSending(): void {
    const stream = this.#options.localStream;
    for (const transceiver of this.#pc.getTransceivers()) {
      if (transceiver.receiver.track.kind !== 'video' || transceiver.sender.track) continue;

      transceiver.direction = 'sendrecv';
      if (stream) transceiver.sender.setStreams(stream);
      log.info('video: ready to send without a camera');
    }
  }

  // ---- both ----

  async #applyVideoTrack(): Promise<void> {
    const wanted = this.#videoTrack;
    const sender = this.#videoSender();
    if (!wanted || !sender) return;

    this.#videoTrack = null;
    await sender.replaceTrack(wanted.track);
    log.info('video: track replaced', { sending: wanted.track !== null });
  }

  #videoSender(): RTCRtpSender | null {
    const transceiver = this.#pc
      .getTransceivers()
      .find((candidate) => candidate.receiver.track.kind === 'video');
    return transceiver?.sender ?? null;
  }

  #addLocalTracks(): Set<string> {
    const stream = this.#options.localStream;
    const kinds = new Set<string>();
    this.#localTracksAdded = true;

    for (const track of stream?.getTracks() ?? []) {
      this.#pc.addTrack(track, stream!);
      kinds.add(track.kind);
    }
    log.info('tracks: added', { kinds: [...kinds] });
    return kinds;
  }

  async #handleCandidate(data: unknown): Promise<void> {
    // End of candidates is only a hint: ICE concludes without it, and browsers disagree on its form.
    if (data === null) return;

    const candidate = candidateFrom(data);
    if (!candidate) return log.warn('ice: malformed candidate');

    if (!this.#pc.remoteDescription) {
      this.#pendingCandidates.push(candidate);
      return;
    }

    await this.#addCandidate(candidate);
  }

  async #addPendingCandidates(): Promise<void> {
    const candidates = this.#pendingCandidates.splice(0);
    for (const candidate of candidates) await this.#addCandidate(candidate);
  }

  async #addCandidate(candidate: RTCIceCandidateInit): Promise<void> {
    try {
      await this.#pc.addIceCandidate(candidate);
    } catch (error) {
      // Candidates of an ICE generation a restart replaced are refused; the others still count.
      log.warn('ice: candidate refused', { error: describeError(error) });
    }
  }

  #sendCandidate(candidate: RTCIceCandidate | null): void {
    this.#send({ kind: 'ice', data: candidate ? candidate.toJSON() : null });
  }

  #send(signal: Signal): void {
    try {
      this.#options.sendSignal(signal);
    } catch (error) {
      log.warn('signal: send failed', { kind: signal.kind, error: describeError(error) });
    }
  }

  #handleTrack(event: RTCTrackEvent): void {
    log.info('track: received', { kind: event.track.kind });
    const stream = event.streams[0] ?? this.#streamFor(event.track);
    if (stream === this.#remoteStream) return;

    this.#remoteStream = stream;
    this.#options.onRemoteStream(stream);
  }

  // A track sent without a stream still has to reach the page in one.
  #streamFor(track: MediaStreamTrack): MediaStream {
    const stream = this.#remoteStream ?? new MediaStream();
    stream.addTrack(track);
    return stream;
  }

  #currentStates(): CallPeerStates {
    return {
      iceConnectionState: this.#pc.iceConnectionState,
      connectionState: this.#pc.connectionState,
    };
  }

  #handleStateChange(): void {
    const states = this.#currentStates();
    log.info('state: changed', { role: this.#options.role, ...states });
    this.#options.onStateChange?.(states);

    if (this.#options.role === 'offerer') this.#offererRecover(states);
    else this.#answererRecover(states);
  }

  #offererRecover(states: CallPeerStates): void {
    if (isConnected(states)) return this.#endRecovery();

    if (isFailed(states)) this.#requestRestart('failed');
    if (isFailed(states) || isDisconnected(states)) this.#scheduleRecovery();
  }

  // A short drop (a Wi-Fi roam) often heals by itself: the first restart only after it lasts,
  // then again, further apart, for as long as the connection stays down.
  #scheduleRecovery(): void {
    this.#recoveryTimer ??= setTimeout(() => this.#recoveryDue(), this.#recoveryDelayMs);
  }

  #recoveryDue(): void {
    this.#recoveryTimer = null;
    const waitedMs = this.#recoveryDelayMs;
    this.#recoveryDelayMs = Math.min(waitedMs * 2, maxRestartIntervalMs);

    const states = this.#currentStates();
    if (isConnected(states)) return this.#endRecovery();

    // Checking means a restart's candidates are being tried: they get the time to connect.
    if (states.iceConnectionState !== 'checking') {
      this.#requestRestart(`still down after ${waitedMs} ms`);
    }
    this.#scheduleRecovery();
  }

  #endRecovery(): void {
    this.#clearRecoveryTimer();
    this.#recoveryDelayMs = this.#restartAfterMs;
  }

  #answererRecover(states: CallPeerStates): void {
    if (!isFailed(states)) {
      this.#restartAsked = false;
      return;
    }
    if (this.#restartAsked) return;

    this.#restartAsked = true;
    log.info('restart: asking the offerer');
    this.#send({ kind: 'restart', data: {} });
  }

  #clearRecoveryTimer(): void {
    if (this.#recoveryTimer) clearTimeout(this.#recoveryTimer);
    this.#recoveryTimer = null;
  }

  #clearAnswerTimer(): void {
    if (this.#answerTimer) clearTimeout(this.#answerTimer);
    this.#answerTimer = null;
  }
}

function isFailed(states: CallPeerStates): boolean {
  return states.iceConnectionState === 'failed' || states.connectionState === 'failed';
}

function isConnected(states: CallPeerStates): boolean {
  const { iceConnectionState, connectionState } = states;
  return (
    (iceConnectionState === 'connected' || iceConnectionState === 'completed') &&
    connectionState === 'connected'
  );
}

function isDisconnected(states: CallPeerStates): boolean {
  return states.iceConnectionState === 'disconnected' || states.connectionState === 'disconnected';
}

interface NumberedDescription {
  description: RTCSessionDescriptionInit;
  /** Which offer this is, or answers; null from an end that does not number its offers. */
  offerNumber: number | null;
}

/** The session description in a signal's data, or null when it is not one of `type`. */
function descriptionFrom(data: unknown, type: 'offer' | 'answer'): NumberedDescription | null {
  if (typeof data !== 'object' || data === null) return null;

  const { type: given, sdp, offerNumber } = data as Record<string, unknown>;
  if (given !== type || typeof sdp !== 'string') return null;

  const numbered = typeof offerNumber === 'number' && Number.isSafeInteger(offerNumber);
  return { description: { type, sdp }, offerNumber: numbered ? offerNumber : null };
}

/** The candidate in a signal's data with only the fields RTCIceCandidateInit knows, or null. */
function candidateFrom(data: unknown): RTCIceCandidateInit | null {
  if (typeof data !== 'object' || data === null) return null;

  const { candidate, sdpMid, sdpMLineIndex, usernameFragment } = data as Record<string, unknown>;
  if (typeof candidate !== 'string') return null;

  return {
    candidate,
    sdpMid: typeof sdpMid === 'string' ? sdpMid : null,
    sdpMLineIndex: typeof sdpMLineIndex === 'number' ? sdpMLineIndex : null,
    ...(typeof usernameFragment === 'string' ? { usernameFragment } : {}),
  };
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
