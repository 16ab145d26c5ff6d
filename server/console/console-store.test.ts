import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  GuardMessage,
  MediaConfig,
  ServerToGuardMessage,
  Signal,
} from '../../app/contract/intercom-protocol.js';
import type { CallPeer, CallPeerOptions } from '../../app/web/call-peer.js';
import {
  ConsoleStore,
  openConfirmMs,
  type ChannelEvents,
  type ConsoleStoreOptions,
} from './console-store.js';

const media: MediaConfig = { iceServers: [], iceTransportPolicy: 'all' };
const offer: Signal = { kind: 'offer', data: { type: 'offer', sdp: 'v=0' } };

interface FakeTrack {
  kind: 'audio' | 'video';
  enabled: boolean;
  stopped: boolean;
  stop(): void;
}

function fakeStream(kinds: ('audio' | 'video')[]): { stream: MediaStream; tracks: FakeTrack[] } {
  const tracks = kinds.map((kind): FakeTrack => ({
    kind,
    enabled: true,
    stopped: false,
    stop() {
      this.stopped = true;
    },
  }));
  const stream = {
    getTracks: () => tracks,
    getAudioTracks: () => tracks.filter((track) => track.kind === 'audio'),
    getVideoTracks: () => tracks.filter((track) => track.kind === 'video'),
  } as unknown as MediaStream;
  return { stream, tracks };
}

let events: ChannelEvents;
let sent: GuardMessage[];
let connected: boolean;
let peers: {
  options: CallPeerOptions;
  received: Signal[];
  closed: boolean;
  videoTracks: (MediaStreamTrack | null)[];
}[];
let ringing: boolean[];
let sessionEnded: number;

function makeStore(overrides: Partial<ConsoleStoreOptions> = {}): ConsoleStore {
  return new ConsoleStore({
    onSessionEnded: () => {
      sessionEnded += 1;
    },
    openChannel: (channelEvents) => {
      events = channelEvents;
      return {
        start: () => undefined,
        stop: () => undefined,
        reconnectNow: () => undefined,
        send: (message) => {
          if (connected) sent.push(message);
          return connected;
        },
      };
    },
    openMedia: () => Promise.resolve(fakeStream(['audio']).stream),
    createPeer: (options): CallPeer => {
      const peer = {
        options,
        received: [] as Signal[],
        closed: false,
        videoTracks: [] as (MediaStreamTrack | null)[],
      };
      peers.push(peer);
      return {
        start: () => Promise.resolve(),
        receive: (signal) => {
          peer.received.push(signal);
          return Promise.resolve();
        },
        setMuted: () => undefined,
        setVideoTrack: (track) => {
          peer.videoTracks.push(track);
          return Promise.resolve();
        },
        close: () => {
          peer.closed = true;
        },
      };
    },
    ring: (on) => ringing.push(on),
    ...overrides,
  });
}

function say(message: ServerToGuardMessage): void {
  events.onMessage(message);
}

function ring(callId: string): void {
  say({
    type: 'ringing',
    callId,
    kioskId: 'k1',
    kioskName: 'North gate',
    ringEndsAt: 0,
    context: null,
  });
}

function answered(callId: string): void {
  say({
    type: 'answered',
    callId,
    kioskId: 'k1',
    kioskName: 'North gate',
    endsAt: 0,
    context: null,
    media,
  });
}

beforeEach(() => {
  sent = [];
  connected = true;
  peers = [];
  ringing = [];
  sessionEnded = 0;
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('ConsoleStore', () => {
  it('rings while a call waits and stops as soon as none does', () => {
    const store = makeStore();
    events.onState('connected');
    ring('c1');
    say({ type: 'ring-stopped', callId: 'c1', reason: 'cancelled', answeredBy: null });

    expect(ringing.at(-2)).toBe(true);
    expect(ringing.at(-1)).toBe(false);
    expect(store.snapshot().calls.ringing).toEqual([]);
  });

  it('answers, then carries the kiosk offer to an answerer with the guard microphone', async () => {
    const store = makeStore();
    ring('c1');
    store.answer('c1');
    answered('c1');
    say({ type: 'signal', callId: 'c1', signal: offer });

    await vi.waitFor(() => expect(peers).toHaveLength(1));
    expect(sent).toEqual([{ type: 'answer', callId: 'c1' }]);
    expect(peers[0]?.options).toMatchObject({ role: 'answerer', media });
    expect(peers[0]?.options.localStream?.getAudioTracks()).toHaveLength(1);
    expect(peers[0]?.received).toEqual([offer]);
    expect(store.snapshot().media?.microphone).toBe('on');
  });

  it('sends the answerer signals for the call it holds', async () => {
    const store = makeStore();
    store.answer('c1');
    answered('c1');
    await vi.waitFor(() => expect(peers).toHaveLength(1));

    peers[0]?.options.sendSignal({ kind: 'ice', data: null });

    expect(sent.at(-1)).toEqual({
      type: 'signal',
      callId: 'c1',
      signal: { kind: 'ice', data: null },
    });
  });

  it('ignores signals of other calls', async () => {
    const store = makeStore();
    store.answer('c1');
    answered('c1');
    say({ type: 'signal', callId: 'other', signal: offer });
    await vi.waitFor(() => expect(peers).toHaveLength(1));

    expect(peers[0]?.received).toEqual([]);
  });

  it('starts no media for a call another console of the same guard answered', async () => {
    const store = makeStore();
    answered('c1');
    await Promise.resolve();

    expect(store.snapshot().calls.active?.here).toBe(false);
    expect(peers).toEqual([]);
  });

  it('frees the microphone when the answer was refused', async () => {
    const { stream, tracks } = fakeStream(['audio']);
    const store = makeStore({ openMedia: () => Promise.resolve(stream) });
    ring('c1');
    store.answer('c1');
    say({
      type: 'refused',
      request: 'answer',
      callId: 'c1',
      code: 'already_answered',
      message: '',
    });

    await vi.waitFor(() => expect(tracks[0]?.stopped).toBe(true));
    expect(store.snapshot().calls.refusal?.code).toBe('already_answered');
  });

  it('ends the media and frees the devices when the call ends', async () => {
    const { stream, tracks } = fakeStream(['audio', 'video']);
    const store = makeStore({ openMedia: () => Promise.resolve(stream), shareCamera: true });
    store.answer('c1');
    answered('c1');
    await vi.waitFor(() => expect(store.snapshot().media?.camera).toBe('on'));

    say({ type: 'ended', callId: 'c1', reason: 'hung_up_by_kiosk' });

    expect(peers[0]?.closed).toBe(true);
    expect(tracks.every((track) => track.stopped)).toBe(true);
    expect(store.snapshot().media).toBeNull();
    expect(store.snapshot().calls.lastEnded?.reason).toBe('hung_up_by_kiosk');
  });

  it('opens the camera only when the guard shares it', () => {
    const openMedia = vi.fn(() => Promise.resolve(null));
    const store = makeStore({ openMedia });
    store.answer('c1');
    store.setShareCamera(true);
    answered('c1');
    say({ type: 'ended', callId: 'c1', reason: 'denied' });
    store.answer('c2');

    expect(openMedia.mock.calls).toEqual([[false], [true]]);
  });

  it('mutes the microphone and hides the camera of the call, freeing it but not the microphone', async () => {
    const { stream, tracks } = fakeStream(['audio', 'video']);
    const store = makeStore({ openMedia: () => Promise.resolve(stream), shareCamera: true });
    store.answer('c1');
    answered('c1');
    await vi.waitFor(() => expect(peers).toHaveLength(1));

    store.setMuted(true);
    store.setShareCamera(false);

    expect(store.snapshot().media).toMatchObject({
      muted: true,
      camera: 'off',
      cameraStream: null,
    });
    expect(peers[0]?.videoTracks).toEqual([null]);
    expect(tracks.map((track) => [track.kind, track.stopped])).toEqual([
      ['audio', false],
      ['video', true],
    ]);
  });

  it('shows the camera in a call that started without it, at once', async () => {
    const camera = fakeStream(['video']);
    const store = makeStore({ openCamera: () => Promise.resolve(camera.stream) });
    store.answer('c1');
    answered('c1');
    await vi.waitFor(() => expect(peers).toHaveLength(1));

    store.setShareCamera(true);

    await vi.waitFor(() => expect(store.snapshot().media?.camera).toBe('on'));
    expect(peers[0]?.videoTracks).toEqual([camera.tracks[0]]);
    expect(store.snapshot().media?.cameraStream).toBe(camera.stream);
    expect(store.snapshot().shareCamera).toBe(true);
  });

  it('says the camera is unavailable when it cannot be opened, and keeps the call', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const store = makeStore({
      openCamera: () => Promise.reject(new DOMException('busy', 'NotReadableError')),
    });
    store.answer('c1');
    answered('c1');
    await vi.waitFor(() => expect(peers).toHaveLength(1));

    store.setShareCamera(true);

    await vi.waitFor(() => expect(store.snapshot().media?.camera).toBe('unavailable'));
    expect(peers[0]?.videoTracks).toEqual([]);
    expect(peers[0]?.closed).toBe(false);
  });

  it('drops a camera that opens after the guard turned it off again', async () => {
    const camera = fakeStream(['video']);
    let opened: (stream: MediaStream) => void = () => undefined;
    const store = makeStore({
      openCamera: () => new Promise((resolve) => (opened = resolve)),
    });
    store.answer('c1');
    answered('c1');
    await vi.waitFor(() => expect(peers).toHaveLength(1));

    store.setShareCamera(true);
    store.setShareCamera(false);
    opened(camera.stream);

    await vi.waitFor(() => expect(camera.tracks[0]?.stopped).toBe(true));
    expect(store.snapshot().media?.camera).toBe('off');
    expect(peers[0]?.videoTracks).toEqual([null]);
  });

  it('sends one open at a time and lets the guard retry when none is confirmed', () => {
    vi.useFakeTimers();
    const store = makeStore();
    store.answer('c1');
    answered('c1');

    store.open();
    store.open();
    expect(sent.filter((message) => message.type === 'open')).toHaveLength(1);
    expect(store.snapshot().calls.active?.open).toBe('sending');

    vi.advanceTimersByTime(openConfirmMs);
    expect(store.snapshot().calls.active?.open).toBe('unconfirmed');
    store.open();
    expect(sent.filter((message) => message.type === 'open')).toHaveLength(2);
  });

  it('keeps the open confirmed once the server sent it', () => {
    vi.useFakeTimers();
    const store = makeStore();
    store.answer('c1');
    answered('c1');
    store.open();
    say({ type: 'open-sent', callId: 'c1' });
    vi.advanceTimersByTime(openConfirmMs);

    expect(store.snapshot().calls.active?.open).toBe('sent');
  });

  it('denies and hangs up the active call only', () => {
    const store = makeStore();
    store.deny();
    store.answer('c1');
    answered('c1');
    store.deny();
    store.hangUp();

    expect(sent).toEqual([
      { type: 'answer', callId: 'c1' },
      { type: 'deny', callId: 'c1' },
      { type: 'hangup', callId: 'c1' },
    ]);
  });

  it('tells the guard when an answer could not be sent, and frees the microphone', async () => {
    const { stream, tracks } = fakeStream(['audio']);
    const store = makeStore({ openMedia: () => Promise.resolve(stream) });
    ring('c1');
    connected = false;
    store.answer('c1');

    expect(store.snapshot().calls.channelError).toBe('disconnected');
    expect(store.snapshot().calls.answering).toBeNull();
    await vi.waitFor(() => expect(tracks[0]?.stopped).toBe(true));
  });

  it('passes an ended session on', () => {
    makeStore();
    events.onSessionEnded();

    expect(sessionEnded).toBe(1);
  });

  it('tells subscribers of every change with a new snapshot', () => {
    const store = makeStore();
    const seen: unknown[] = [];
    store.subscribe(() => seen.push(store.snapshot()));
    events.onState('connected');
    ring('c1');

    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
  });
});
