import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MediaConfig, Signal } from '../contract/intercom-protocol.js';
import { createCallPeer, type CallPeerOptions, type CallPeerStates } from './call-peer.js';

const media: MediaConfig = {
  iceServers: [{ urls: ['stun:127.0.0.1:3478'] }],
  iceTransportPolicy: 'relay',
};

/** A transceiver as the peer sees it: its kind, direction, and the sender's track and streams. */
class FakeTransceiver {
  direction: RTCRtpTransceiverDirection;
  readonly receiver: { track: { kind: string } };
  readonly sender = {
    track: null as unknown,
    streams: [] as unknown[],
    replaceTrack: (track: unknown) => {
      this.sender.track = track;
      return Promise.resolve();
    },
    setStreams: (...streams: unknown[]) => {
      this.sender.streams = streams;
    },
  };

  constructor(kind: string, direction: RTCRtpTransceiverDirection) {
    this.receiver = { track: { kind } };
    this.direction = direction;
  }
}

/** The part of RTCPeerConnection the peer uses, recording what was done to it. */
class FakePeerConnection {
  signalingState: RTCSignalingState = 'stable';
  iceConnectionState: RTCIceConnectionState = 'new';
  connectionState: RTCPeerConnectionState = 'new';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  readonly addedTracks: string[] = [];
  readonly transceivers: { kind: string; direction: string | undefined }[] = [];
  readonly addedCandidates: RTCIceCandidateInit[] = [];
  readonly offerOptions: (RTCOfferOptions | undefined)[] = [];
  /** The media sections: made by the offer (answerer) or by addTrack and addTransceiver. */
  readonly rtpTransceivers: FakeTransceiver[] = [];
  restarts = 0;
  closed = false;
  onicecandidate: ((event: { candidate: unknown }) => void) | null = null;
  ontrack: ((event: { track: { kind: string }; streams: unknown[] }) => void) | null = null;
  oniceconnectionstatechange: (() => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;

  constructor(readonly config: RTCConfiguration) {}

  addTrack(track: { kind: string }, stream: unknown): void {
    this.addedTracks.push(track.kind);
    // Like the browser: a track rides a free section of its kind (the offer's) before a new one.
    const free = this.rtpTransceivers.find(
      (transceiver) => transceiver.receiver.track.kind === track.kind && !transceiver.sender.track,
    );
    const transceiver = free ?? new FakeTransceiver(track.kind, 'sendrecv');
    if (!free) this.rtpTransceivers.push(transceiver);
    transceiver.direction = 'sendrecv';
    transceiver.sender.track = track;
    transceiver.sender.streams = [stream];
  }

  addTransceiver(kind: string, init?: RTCRtpTransceiverInit): void {
    this.transceivers.push({ kind, direction: init?.direction });
    this.rtpTransceivers.push(new FakeTransceiver(kind, init?.direction ?? 'sendrecv'));
  }

  getTransceivers(): FakeTransceiver[] {
    return this.rtpTransceivers;
  }

  /** The section of `kind`, which a test expects to exist. */
  transceiverOf(kind: string): FakeTransceiver {
    const found = this.rtpTransceivers.find(
      (transceiver) => transceiver.receiver.track.kind === kind,
    );
    if (!found) throw new Error(`no ${kind} transceiver`);
    return found;
  }

  createOffer(options?: RTCOfferOptions): Promise<RTCSessionDescriptionInit> {
    this.offerOptions.push(options);
    return Promise.resolve({ type: 'offer', sdp: `offer-${this.offerOptions.length}` });
  }

  createAnswer(): Promise<RTCSessionDescriptionInit> {
    return Promise.resolve({ type: 'answer', sdp: 'answer-sdp' });
  }

  setLocalDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.localDescription = description;
    this.signalingState = description.type === 'offer' ? 'have-local-offer' : 'stable';
    return Promise.resolve();
  }

  setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    // The kiosk's offer has an audio and a video section; the browser makes them recvonly here.
    if (description.type === 'offer' && this.rtpTransceivers.length === 0) {
      for (const kind of ['audio', 'video']) {
        this.rtpTransceivers.push(new FakeTransceiver(kind, 'recvonly'));
      }
    }
    this.remoteDescription = description;
    this.signalingState = description.type === 'offer' ? 'have-remote-offer' : 'stable';
    return Promise.resolve();
  }

  addIceCandidate(candidate: RTCIceCandidateInit): Promise<void> {
    this.addedCandidates.push(candidate);
    return Promise.resolve();
  }

  restartIce(): void {
    this.restarts += 1;
  }

  close(): void {
    this.closed = true;
  }

  /** Moves to new states the way the browser does: the state, then its event. */
  enter(iceConnectionState: RTCIceConnectionState, connectionState: RTCPeerConnectionState): void {
    this.iceConnectionState = iceConnectionState;
    this.oniceconnectionstatechange?.();
    this.connectionState = connectionState;
    this.onconnectionstatechange?.();
  }
}

function fakeTrack(kind: 'audio' | 'video') {
  return { kind, enabled: true };
}

function fakeStream(tracks: ReturnType<typeof fakeTrack>[]): MediaStream {
  const stream = {
    getTracks: () => tracks,
    getAudioTracks: () => tracks.filter((track) => track.kind === 'audio'),
  };
  return stream as unknown as MediaStream;
}

const openPeers = new Set<{ close(): void }>();

function setup(overrides: Partial<CallPeerOptions> = {}) {
  const sent: Signal[] = [];
  const states: CallPeerStates[] = [];
  const remoteStreams: unknown[] = [];
  let pc: FakePeerConnection | null = null;
  const peer = createCallPeer({
    role: 'offerer',
    media,
    localStream: null,
    sendSignal: (signal) => sent.push(signal),
    onRemoteStream: (stream) => remoteStreams.push(stream),
    onStateChange: (next) => states.push(next),
    createPeerConnection: (config) => {
      pc = new FakePeerConnection(config);
      return pc as unknown as RTCPeerConnection;
    },
    ...overrides,
  });
  openPeers.add(peer);

  return { peer, pc: pc!, sent, states, remoteStreams };
}

/** An offerer whose first offer was answered. */
async function answeredOfferer(overrides: Partial<CallPeerOptions> = {}) {
  const call = setup(overrides);
  await call.peer.start();
  await call.peer.receive(answer);
  return call;
}

// An answer without an offer number, as from an end that does not number offers.
const answer: Signal = { kind: 'answer', data: { type: 'answer', sdp: 'answer-sdp' } };
const answerTo = (offerNumber: number): Signal => ({
  kind: 'answer',
  data: { type: 'answer', sdp: `answer-to-${offerNumber}`, offerNumber },
});
const offer: Signal = { kind: 'offer', data: { type: 'offer', sdp: 'offer-sdp' } };
const restart: Signal = { kind: 'restart', data: {} };
const candidateLine = (n: number) => `candidate:${n} 1 udp 1 127.0.0.1 5000${n} typ host`;
const candidate = (n: number): Signal => ({
  kind: 'ice',
  data: { candidate: candidateLine(n), sdpMid: '0' },
});

const offersIn = (sent: Signal[]) => sent.filter((signal) => signal.kind === 'offer');

beforeEach(() => {
  for (const level of ['info', 'warn'] as const) {
    vi.spyOn(console, level).mockImplementation(() => undefined);
  }
});

afterEach(() => {
  for (const peer of openPeers) peer.close();
  openPeers.clear();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('createCallPeer as the offerer', () => {
  it('configures ICE from the call media and sends an offer on start', async () => {
    const { peer, pc, sent } = setup();

    await peer.start();

    expect(pc.config).toEqual({ iceServers: media.iceServers, iceTransportPolicy: 'relay' });
    expect(sent).toEqual([
      { kind: 'offer', data: { type: 'offer', sdp: 'offer-1', offerNumber: 1 } },
    ]);
    expect(pc.localDescription).toEqual({ type: 'offer', sdp: 'offer-1' });
  });

  it('sends its camera and microphone and receives both kinds from the guard', async () => {
    const stream = fakeStream([fakeTrack('audio'), fakeTrack('video')]);
    const { peer, pc } = setup({ localStream: stream });

    await peer.start();

    expect(pc.addedTracks).toEqual(['audio', 'video']);
    expect(pc.transceivers).toEqual([]);
  });

  it('still receives audio and video when it has nothing to send', async () => {
    const { peer, pc } = setup();

    await peer.start();

    expect(pc.transceivers).toEqual([
      { kind: 'audio', direction: 'recvonly' },
      { kind: 'video', direction: 'recvonly' },
    ]);
  });

  it('queues remote candidates until the answer is applied, then adds them in order', async () => {
    const { peer, pc } = setup();
    await peer.start();

    await peer.receive(candidate(1));
    await peer.receive(candidate(2));
    expect(pc.addedCandidates).toEqual([]);

    await peer.receive(answer);
    await peer.receive(candidate(3));

    expect(pc.remoteDescription).toEqual({ type: 'answer', sdp: 'answer-sdp' });
    expect(pc.addedCandidates.map((added) => added.candidate)).toEqual(
      [1, 2, 3].map(candidateLine),
    );
  });

  it('ignores an answer in the wrong signalling state without throwing', async () => {
    const { peer, pc } = await answeredOfferer();
    const applied = pc.remoteDescription;

    await expect(
      peer.receive({ kind: 'answer', data: { type: 'answer', sdp: 'late' } }),
    ).resolves.toBeUndefined();
    expect(pc.remoteDescription).toBe(applied);
  });

  it('ignores an answer to an offer that was replaced', async () => {
    const { peer, pc } = setup();
    await peer.start();
    await peer.receive(restart);
    await peer.receive(answerTo(1));
    await vi.waitFor(() => expect(pc.restarts).toBe(1));

    await peer.receive(answerTo(1));
    expect(pc.signalingState).toBe('have-local-offer');

    await peer.receive(answerTo(2));
    expect(pc.remoteDescription?.sdp).toBe('answer-to-2');
  });

  it('sends the offer again when no answer comes in time, and takes the answer to it', async () => {
    vi.useFakeTimers();
    const { peer, pc, sent } = setup({ answerTimeoutMs: 5000 });
    await peer.start();

    await vi.advanceTimersByTimeAsync(4999);
    expect(offersIn(sent)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);

    expect(offersIn(sent).map((signal) => signal.data)).toMatchObject([
      { offerNumber: 1 },
      { offerNumber: 2 },
    ]);
    expect(pc.localDescription?.sdp).toBe('offer-2');
    await peer.receive(answerTo(2));
    expect(pc.remoteDescription?.sdp).toBe('answer-to-2');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends an unanswered ICE restart again as a restart', async () => {
    vi.useFakeTimers();
    const { peer, pc, sent } = setup({ answerTimeoutMs: 5000 });
    await peer.start();
    await peer.receive(answerTo(1));
    pc.enter('failed', 'failed');
    await vi.waitFor(() => expect(offersIn(sent)).toHaveLength(2));

    await vi.advanceTimersByTimeAsync(5000);

    expect(offersIn(sent)).toHaveLength(3);
    expect(pc.restarts).toBe(2);
    expect(pc.offerOptions.at(-1)).toEqual({ iceRestart: true });
  });

  it('ignores malformed descriptions and candidates', async () => {
    const { peer, pc } = setup();
    await peer.start();

    await peer.receive({ kind: 'answer', data: { type: 'offer', sdp: 'x' } });
    await peer.receive({ kind: 'answer', data: 'not an object' });
    await peer.receive({ kind: 'ice', data: { candidate: 42 } });
    await peer.receive(answer);

    expect(pc.remoteDescription).toEqual({ type: 'answer', sdp: 'answer-sdp' });
    expect(pc.addedCandidates).toEqual([]);
  });

  it('sends its own candidates, and null at the end of gathering', () => {
    const { pc, sent } = setup();
    const init = { candidate: 'candidate:1 1 udp 1 10.0.0.1 4000 typ host', sdpMid: '0' };

    pc.onicecandidate?.({ candidate: { toJSON: () => init } });
    pc.onicecandidate?.({ candidate: null });

    expect(sent).toEqual([
      { kind: 'ice', data: init },
      { kind: 'ice', data: null },
    ]);
  });

  it('restarts ICE at once when the connection fails', async () => {
    const { pc, sent } = await answeredOfferer();

    pc.enter('failed', 'failed');

    await vi.waitFor(() => expect(offersIn(sent)).toHaveLength(2));
    expect(pc.restarts).toBe(1);
    expect(pc.offerOptions.at(-1)).toEqual({ iceRestart: true });
  });

  it('restarts once per failure, not once per state event', async () => {
    const { peer, pc, sent } = await answeredOfferer();

    pc.enter('failed', 'failed');
    await vi.waitFor(() => expect(offersIn(sent)).toHaveLength(2));
    pc.enter('failed', 'failed');
    await peer.receive(answer);

    expect(pc.restarts).toBe(1);
    expect(offersIn(sent)).toHaveLength(2);
  });

  it('restarts again on a later failure once the restart was answered', async () => {
    const { peer, pc, sent } = await answeredOfferer();
    pc.enter('failed', 'failed');
    await vi.waitFor(() => expect(offersIn(sent)).toHaveLength(2));

    await peer.receive(answer);
    pc.enter('checking', 'connecting');
    pc.enter('failed', 'failed');

    await vi.waitFor(() => expect(offersIn(sent)).toHaveLength(3));
    expect(pc.restarts).toBe(2);
  });

  it('restarts ICE only after staying disconnected for restartAfterMs', async () => {
    vi.useFakeTimers();
    const { pc, sent } = await answeredOfferer({ restartAfterMs: 2000 });

    pc.enter('disconnected', 'disconnected');
    await vi.advanceTimersByTimeAsync(1999);
    expect(pc.restarts).toBe(0);

    await vi.advanceTimersByTimeAsync(1);
    expect(pc.restarts).toBe(1);
    expect(offersIn(sent)).toHaveLength(2);
  });

  it('does not restart when a disconnection heals by itself', async () => {
    vi.useFakeTimers();
    const { pc } = await answeredOfferer({ restartAfterMs: 2000 });

    pc.enter('disconnected', 'disconnected');
    await vi.advanceTimersByTimeAsync(1500);
    pc.enter('connected', 'connected');
    await vi.advanceTimersByTimeAsync(5000);

    expect(pc.restarts).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps restarting while the connection stays down, further apart each time, up to 10 s', async () => {
    vi.useFakeTimers();
    const { peer, pc, sent } = await answeredOfferer({ restartAfterMs: 2000 });
    pc.enter('disconnected', 'disconnected');

    // A restart while the network is still gone gathers nothing and changes no state.
    for (const [waitMs, restarts] of [
      [2000, 1],
      [4000, 2],
      [8000, 3],
      [10_000, 4],
      [10_000, 5],
    ]) {
      await vi.advanceTimersByTimeAsync(waitMs - 1);
      expect(pc.restarts).toBe(restarts - 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(pc.restarts).toBe(restarts);
      await peer.receive(answerTo(restarts + 1));
    }
    expect(offersIn(sent)).toHaveLength(6);
  });

  it('keeps restarting after a failure that restarting did not mend', async () => {
    vi.useFakeTimers();
    const { peer, pc } = await answeredOfferer({ restartAfterMs: 2000 });

    pc.enter('failed', 'failed');
    await vi.advanceTimersByTimeAsync(0);
    expect(pc.restarts).toBe(1);
    await peer.receive(answerTo(2));

    await vi.advanceTimersByTimeAsync(2000);
    expect(pc.restarts).toBe(2);
  });

  it('leaves ICE to check the candidates of a restart, and stops retrying once connected', async () => {
    vi.useFakeTimers();
    const { peer, pc } = await answeredOfferer({ restartAfterMs: 2000 });
    pc.enter('disconnected', 'disconnected');
    await vi.advanceTimersByTimeAsync(2000);
    await peer.receive(answerTo(2));

    pc.enter('checking', 'disconnected');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pc.restarts).toBe(1);

    pc.enter('connected', 'connected');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waits restartAfterMs again on a drop after the connection came back', async () => {
    vi.useFakeTimers();
    const { peer, pc } = await answeredOfferer({ restartAfterMs: 2000 });
    pc.enter('disconnected', 'disconnected');
    await vi.advanceTimersByTimeAsync(2000);
    await peer.receive(answerTo(2));
    await vi.advanceTimersByTimeAsync(4000);
    await peer.receive(answerTo(3));
    pc.enter('connected', 'connected');

    pc.enter('disconnected', 'disconnected');
    await vi.advanceTimersByTimeAsync(1999);
    expect(pc.restarts).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(pc.restarts).toBe(3);
  });

  it('restarts when the answerer asks', async () => {
    const { peer, pc, sent } = await answeredOfferer();

    await peer.receive(restart);

    await vi.waitFor(() => expect(offersIn(sent)).toHaveLength(2));
    expect(pc.offerOptions.at(-1)).toEqual({ iceRestart: true });
  });

  it('waits for an unanswered offer before restarting', async () => {
    const { peer, pc, sent } = setup();
    await peer.start();

    await peer.receive(restart);
    expect(pc.restarts).toBe(0);

    await peer.receive(answer);
    await vi.waitFor(() => expect(pc.restarts).toBe(1));
    expect(offersIn(sent)).toHaveLength(2);
  });

  it('reports every state change', () => {
    const { pc, states } = setup();

    pc.enter('checking', 'connecting');
    pc.enter('connected', 'connected');

    expect(states).toEqual([
      { iceConnectionState: 'checking', connectionState: 'new' },
      { iceConnectionState: 'checking', connectionState: 'connecting' },
      { iceConnectionState: 'connected', connectionState: 'connecting' },
      { iceConnectionState: 'connected', connectionState: 'connected' },
    ]);
  });

  it('hands the remote stream to the page once, however many tracks it carries', () => {
    const { pc, remoteStreams } = setup();
    const stream = { id: 'guard' };

    pc.ontrack?.({ track: { kind: 'audio' }, streams: [stream] });
    pc.ontrack?.({ track: { kind: 'video' }, streams: [stream] });

    expect(remoteStreams).toEqual([stream]);
  });

  it('mutes and unmutes the local audio tracks only', () => {
    const audio = fakeTrack('audio');
    const video = fakeTrack('video');
    const { peer } = setup({ localStream: fakeStream([audio, video]) });

    peer.setMuted(true);
    expect([audio.enabled, video.enabled]).toEqual([false, true]);

    peer.setMuted(false);
    expect(audio.enabled).toBe(true);
  });

  it('closes the connection, clears its timers and applies nothing after', async () => {
    vi.useFakeTimers();
    const { peer, pc, sent } = await answeredOfferer();
    pc.enter('disconnected', 'disconnected');
    expect(vi.getTimerCount()).toBe(1);

    peer.close();
    await vi.advanceTimersByTimeAsync(10_000);
    await peer.receive(restart);

    expect(pc.closed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(pc.restarts).toBe(0);
    expect(offersIn(sent)).toHaveLength(1);
    expect(pc.onicecandidate).toBeNull();
  });
});

describe('createCallPeer as the answerer', () => {
  it('sends nothing on start and answers an offer', async () => {
    const { peer, pc, sent } = setup({ role: 'answerer' });

    await peer.start();
    expect(sent).toEqual([]);

    await peer.receive(offer);

    expect(pc.remoteDescription).toEqual({ type: 'offer', sdp: 'offer-sdp' });
    expect(sent).toEqual([{ kind: 'answer', data: { type: 'answer', sdp: 'answer-sdp' } }]);
  });

  it('names the offer it answers when the offerer numbered it', async () => {
    const { peer, sent } = setup({ role: 'answerer' });

    await peer.receive({ kind: 'offer', data: { type: 'offer', sdp: 'o', offerNumber: 7 } });

    expect(sent).toEqual([
      { kind: 'answer', data: { type: 'answer', sdp: 'answer-sdp', offerNumber: 7 } },
    ]);
  });

  it('adds its tracks after the offer and only once, across ICE restarts', async () => {
    const stream = fakeStream([fakeTrack('audio')]);
    const { peer, pc } = setup({ role: 'answerer', localStream: stream });

    await peer.receive(offer);
    await peer.receive({ kind: 'offer', data: { type: 'offer', sdp: 'restart-offer' } });

    expect(pc.addedTracks).toEqual(['audio']);
    expect(pc.transceivers).toEqual([]);
  });

  it('answers the video sendrecv without a camera, in the same stream as the voice', async () => {
    const stream = fakeStream([fakeTrack('audio')]);
    const { peer, pc } = setup({ role: 'answerer', localStream: stream });

    await peer.receive(offer);

    const video = pc.transceiverOf('video');
    expect(video.direction).toBe('sendrecv');
    expect(video.sender.track).toBeNull();
    expect(video.sender.streams).toEqual([stream]);
    expect(pc.transceiverOf('audio').sender.streams).toEqual([stream]);
  });

  it('shows and hides the camera during the call by swapping the track, without a new answer', async () => {
    const { peer, pc, sent } = setup({ role: 'answerer', localStream: fakeStream([]) });
    await peer.receive(offer);
    const camera = fakeTrack('video');

    await peer.setVideoTrack(camera as unknown as MediaStreamTrack);
    expect(pc.transceiverOf('video').sender.track).toBe(camera);

    await peer.setVideoTrack(null);
    expect(pc.transceiverOf('video').sender.track).toBeNull();
    expect(sent.filter((signal) => signal.kind === 'answer')).toHaveLength(1);
    expect(pc.transceiverOf('video').direction).toBe('sendrecv');
  });

  it('keeps a camera turned on before the offer and sends it with the answer', async () => {
    const { peer, pc, sent } = setup({ role: 'answerer' });
    const camera = fakeTrack('video');

    await peer.setVideoTrack(camera as unknown as MediaStreamTrack);
    await peer.receive(offer);

    expect(pc.transceiverOf('video').sender.track).toBe(camera);
    expect(pc.transceiverOf('video').direction).toBe('sendrecv');
    expect(sent.map((signal) => signal.kind)).toEqual(['answer']);
  });

  it('can hide a camera it was started with, on the same section', async () => {
    const camera = fakeTrack('video');
    const { peer, pc } = setup({
      role: 'answerer',
      localStream: fakeStream([fakeTrack('audio'), camera]),
    });
    await peer.receive(offer);
    expect(pc.transceiverOf('video').sender.track).toBe(camera);

    await peer.setVideoTrack(null);

    expect(pc.transceiverOf('video').sender.track).toBeNull();
    expect(pc.rtpTransceivers).toHaveLength(2);
  });

  it('queues candidates that arrive before the offer', async () => {
    const { peer, pc } = setup({ role: 'answerer' });

    await peer.receive(candidate(1));
    expect(pc.addedCandidates).toEqual([]);

    await peer.receive(offer);
    expect(pc.addedCandidates).toHaveLength(1);
  });

  it('asks the offerer to restart once per failure and never restarts itself', () => {
    const { pc, sent } = setup({ role: 'answerer' });

    pc.enter('failed', 'failed');
    pc.enter('failed', 'failed');
    pc.enter('checking', 'connecting');
    pc.enter('failed', 'failed');

    expect(sent).toEqual([
      { kind: 'restart', data: {} },
      { kind: 'restart', data: {} },
    ]);
    expect(pc.restarts).toBe(0);
  });

  it('ignores answers, which only the offerer expects', async () => {
    const { peer, pc } = setup({ role: 'answerer' });

    await peer.receive(answer);

    expect(pc.remoteDescription).toBeNull();
  });
});
