/**
 * Watches a page's WebRTC from the outside, without touching product code: an init script wraps
 * the page's RTCPeerConnection so every connection it makes is kept in `window.__peers`, and the
 * test reads their getStats(): what was received (video frames decoded, audio packets and
 * samples) and which candidate pair carries the media (host, srflx or relay).
 */
import { expect, type BrowserContext, type Page } from '@playwright/test';

/** Plain JavaScript, run before any of the page's scripts in every frame of the context. */
const recorderScript = `(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || window.__peers) return;
  window.__peers = [];
  class RecordedPeerConnection extends Native {
    constructor(...args) {
      super(...args);
      window.__peers.push(this);
    }
  }
  window.RTCPeerConnection = RecordedPeerConnection;
})();`;

/** Keeps every RTCPeerConnection the context's pages create, for peerStats(). */
export async function recordPeerConnections(context: BrowserContext): Promise<void> {
  await context.addInitScript({ content: recorderScript });
}

/** What a page's newest peer connection received, and over which path. */
export interface PeerStats {
  /** Peer connections the page has made so far. */
  peers: number;
  connectionState: string;
  iceConnectionState: string;
  /** Inbound video: frames decoded so far, and their size. */
  videoFramesDecoded: number;
  videoFrameWidth: number;
  /** Inbound audio: RTP packets and decoded samples. */
  audioPacketsReceived: number;
  audioSamplesReceived: number;
  /** Candidate types of the selected pair, e.g. `host` or `relay`; null until one is chosen. */
  localCandidateType: string | null;
  remoteCandidateType: string | null;
}

/** The stats of a page before any connection: every count at zero. */
export const noPeerStats: PeerStats = {
  peers: 0,
  connectionState: 'none',
  iceConnectionState: 'none',
  videoFramesDecoded: 0,
  videoFrameWidth: 0,
  audioPacketsReceived: 0,
  audioSamplesReceived: 0,
  localCandidateType: null,
  remoteCandidateType: null,
};

// Plain JavaScript as well: these tests are compiled for Node and know no DOM types.
const readStatsScript = `(async () => {
  const peers = window.__peers || [];
  const peer = peers[peers.length - 1];
  const result = Object.assign(${JSON.stringify(noPeerStats)}, { peers: peers.length });
  if (!peer) return result;

  result.connectionState = peer.connectionState;
  result.iceConnectionState = peer.iceConnectionState;
  const report = await peer.getStats();
  const byId = new Map();
  report.forEach((entry) => byId.set(entry.id, entry));
  let pairId = null;
  report.forEach((entry) => {
    if (entry.type === 'inbound-rtp' && entry.kind === 'video') {
      result.videoFramesDecoded += entry.framesDecoded || 0;
      result.videoFrameWidth = Math.max(result.videoFrameWidth, entry.frameWidth || 0);
    }
    if (entry.type === 'inbound-rtp' && entry.kind === 'audio') {
      result.audioPacketsReceived += entry.packetsReceived || 0;
      result.audioSamplesReceived += entry.totalSamplesReceived || 0;
    }
    if (entry.type === 'transport' && entry.selectedCandidatePairId) pairId = entry.selectedCandidatePairId;
  });
  const pair = pairId ? byId.get(pairId) : undefined;
  if (pair) {
    result.localCandidateType = (byId.get(pair.localCandidateId) || {}).candidateType || null;
    result.remoteCandidateType = (byId.get(pair.remoteCandidateId) || {}).candidateType || null;
  }
  return result;
})()`;

/** Reads the stats of the page's newest peer connection (zeros when it has none). */
export function peerStats(page: Page): Promise<PeerStats> {
  return page.evaluate<PeerStats>(readStatsScript);
}

/**
 * Polls what `read` takes from the page's stats until the matcher chained on passes, as
 * expect.poll does; `message` says what the test waits for.
 */
export function pollPeerStats<T>(
  page: Page,
  read: (stats: PeerStats) => T,
  message: string,
  timeout: number,
) {
  return expect.poll(async () => read(await peerStats(page)), { message, timeout });
}

/** Both ends of the call take the media path through the TURN relay. */
export function expectRelayed(stats: { kiosk: PeerStats; guard: PeerStats }): void {
  for (const side of [stats.kiosk, stats.guard]) {
    expect(side.localCandidateType).toBe('relay');
    expect(side.remoteCandidateType).toBe('relay');
  }
}

/** True once video frames were decoded and audio was received on this page's newest connection. */
export function mediaFlowing(stats: PeerStats): boolean {
  return (
    stats.videoFramesDecoded > 0 && stats.audioPacketsReceived > 0 && stats.audioSamplesReceived > 0
  );
}

/**
 * Which offer and answer a page's newest connection runs on: its count of connections and the
 * `o=` lines of its local and remote descriptions. Every new offer or answer raises the session
 * version in its `o=` line, while trickled candidates leave it alone, so an unchanged value means
 * no renegotiation took place.
 */
export interface Negotiation {
  peers: number;
  local: string | null;
  remote: string | null;
}

const readNegotiationScript = `(() => {
  const peers = window.__peers || [];
  const peer = peers[peers.length - 1];
  const origin = (description) => {
    const line = ((description && description.sdp) || '').split(/\\r?\\n/).find((l) => l.startsWith('o='));
    return line || null;
  };
  return { peers: peers.length, local: origin(peer && peer.localDescription), remote: origin(peer && peer.remoteDescription) };
})()`;

/** Reads the negotiation of the page's newest peer connection (see Negotiation). */
export function negotiation(page: Page): Promise<Negotiation> {
  return page.evaluate<Negotiation>(readNegotiationScript);
}
