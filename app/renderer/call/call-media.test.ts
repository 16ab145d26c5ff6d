import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallSignal, KioskApi } from '../../contract/api.js';
import type { MediaConfig, Signal } from '../../contract/intercom-protocol.js';
import type { CallPeer, CallPeerOptions } from '../../web/call-peer.js';
import { startCallMedia, type CallMediaOptions } from './call-media.js';

const media: MediaConfig = { iceServers: [], iceTransportPolicy: 'all' };

function fakeStream() {
  const tracks = [
    { kind: 'audio', stop: vi.fn() },
    { kind: 'video', stop: vi.fn() },
  ];
  const stream = { getTracks: () => tracks } as unknown as MediaStream;
  const stopped = () => tracks.every((track) => track.stop.mock.calls.length > 0);

  return { stream, stopped };
}

/** A peer that records what it was given and received. */
function fakePeerFactory() {
  const made: { options: CallPeerOptions; received: Signal[]; closed: boolean }[] = [];
  const createPeer = (options: CallPeerOptions): CallPeer => {
    const record = { options, received: [] as Signal[], closed: false };
    made.push(record);
    return {
      start: () => Promise.resolve(options.sendSignal({ kind: 'offer', data: { sdp: 'o' } })),
      receive: (signal) => Promise.resolve(void record.received.push(signal)),
      setMuted: () => undefined,
      setVideoTrack: () => Promise.resolve(),
      close: () => void (record.closed = true),
    };
  };

  return { made, createPeer };
}

/** A KioskApi that records commands and lets the test push call:signal events. */
function fakeApi() {
  const invoked: { command: string; input: unknown }[] = [];
  const listeners = new Set<(payload: CallSignal) => void>();
  const api = {
    invoke: (command: string, input: unknown) => {
      invoked.push({ command, input });
      return Promise.resolve(undefined);
    },
    on: (_event: string, listener: (payload: CallSignal) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as Pick<KioskApi, 'invoke' | 'on'>;
  const push = (payload: CallSignal) => listeners.forEach((listener) => listener(payload));

  return { api, invoked, push, listenerCount: () => listeners.size };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

function start(overrides: Partial<CallMediaOptions> = {}) {
  const camera = fakeStream();
  const peers = fakePeerFactory();
  const kiosk = fakeApi();
  const seen = { local: [] as unknown[], remote: [] as unknown[], errors: [] as string[] };
  const getUserMedia = vi.fn((_constraints: MediaStreamConstraints) =>
    Promise.resolve(camera.stream),
  );
  const session = startCallMedia({
    callId: 'call-1',
    media,
    api: kiosk.api,
    onLocalStream: (stream) => seen.local.push(stream),
    onRemoteStream: (stream) => seen.remote.push(stream),
    onDeviceError: (code) => seen.errors.push(code),
    getUserMedia,
    createPeer: peers.createPeer,
    cameraFree: () => Promise.resolve(),
    ...overrides,
  });

  return { session, camera, peers, kiosk, seen, getUserMedia };
}

beforeEach(() => {
  for (const level of ['info', 'warn'] as const) {
    vi.spyOn(console, level).mockImplementation(() => undefined);
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('startCallMedia', () => {
  it('offers camera and microphone to the guard through the call:signal command', async () => {
    const { peers, kiosk, seen, camera, getUserMedia } = start();

    await vi.waitFor(() => expect(kiosk.invoked).toHaveLength(1));

    const constraints = getUserMedia.mock.calls[0][0];
    expect(constraints.audio).toBeTruthy();
    expect(constraints.video).toBeTruthy();
    expect(peers.made[0].options).toMatchObject({ role: 'offerer', media });
    expect(peers.made[0].options.localStream).toBe(camera.stream);
    expect(seen.local).toEqual([camera.stream]);
    expect(kiosk.invoked[0]).toEqual({
      command: 'call:signal',
      input: { callId: 'call-1', signal: { kind: 'offer', data: { sdp: 'o' } } },
    });
  });

  it('hands the guard signals of this call to the peer and ignores other calls', async () => {
    const { peers, kiosk } = start();
    await vi.waitFor(() => expect(kiosk.listenerCount()).toBe(1));
    const answer: Signal = { kind: 'answer', data: { type: 'answer', sdp: 'a' } };

    kiosk.push({ callId: 'call-1', signal: answer });
    kiosk.push({ callId: 'call-2', signal: { kind: 'restart', data: {} } });

    expect(peers.made[0].received).toEqual([answer]);
  });

  it('reports every connection state to the core with the call id', async () => {
    const { peers, kiosk } = start();
    await vi.waitFor(() => expect(peers.made).toHaveLength(1));

    peers.made[0].options.onStateChange?.({
      iceConnectionState: 'connected',
      connectionState: 'connected',
    });

    expect(kiosk.invoked.at(-1)).toEqual({
      command: 'call:media',
      input: { callId: 'call-1', iceConnectionState: 'connected', connectionState: 'connected' },
    });
  });

  it('passes the remote stream on to the screen', async () => {
    const { peers, seen } = start();
    await vi.waitFor(() => expect(peers.made).toHaveLength(1));
    const remote = {} as MediaStream;

    peers.made[0].options.onRemoteStream(remote);

    expect(seen.remote).toEqual([remote]);
  });

  it('releases the camera, closes the peer and stops listening when stopped', async () => {
    const { session, camera, peers, kiosk } = start();
    await vi.waitFor(() => expect(peers.made).toHaveLength(1));

    session.stop();

    expect(camera.stopped()).toBe(true);
    expect(peers.made[0].closed).toBe(true);
    expect(kiosk.listenerCount()).toBe(0);
  });

  it('releases a camera that opens only after the call ended', async () => {
    const camera = fakeStream();
    const opening = deferred<MediaStream>();
    const getUserMedia = vi.fn(() => opening.promise);
    const { session, peers } = start({ getUserMedia });
    await vi.waitFor(() => expect(getUserMedia).toHaveBeenCalled());

    session.stop();
    opening.resolve(camera.stream);

    await vi.waitFor(() => expect(camera.stopped()).toBe(true));
    expect(peers.made).toEqual([]);
  });

  it('waits for the scanner to let go of the camera before opening it', async () => {
    const scannerDone = deferred<void>();
    const { getUserMedia } = start({ cameraFree: () => scannerDone.promise });

    await Promise.resolve();
    expect(getUserMedia).not.toHaveBeenCalled();

    scannerDone.resolve();
    await vi.waitFor(() => expect(getUserMedia).toHaveBeenCalled());
  });

  it('falls back to the microphone alone when the camera fails, and says so', async () => {
    const microphone = fakeStream();
    const getUserMedia = vi.fn((constraints: MediaStreamConstraints) =>
      constraints.video
        ? Promise.reject(new DOMException('busy', 'NotReadableError'))
        : Promise.resolve(microphone.stream),
    );
    const { peers, seen } = start({ getUserMedia });

    await vi.waitFor(() => expect(peers.made).toHaveLength(1));

    expect(seen.errors).toEqual(['NotReadableError']);
    expect(peers.made[0].options.localStream).toBe(microphone.stream);
  });

  it('still connects to see and hear the guard when no device opens', async () => {
    const getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
    const { peers, seen } = start({ getUserMedia });

    await vi.waitFor(() => expect(peers.made).toHaveLength(1));

    expect(peers.made[0].options.localStream).toBeNull();
    expect(seen.local).toEqual([]);
    expect(seen.errors).toEqual(['NotAllowedError', 'NotAllowedError']);
  });

  it('sends nothing more once stopped', async () => {
    const { session, peers, kiosk } = start();
    await vi.waitFor(() => expect(peers.made).toHaveLength(1));
    const sentBefore = kiosk.invoked.length;

    session.stop();
    peers.made[0].options.sendSignal({ kind: 'ice', data: null });

    expect(kiosk.invoked).toHaveLength(sentBefore);
  });
});
