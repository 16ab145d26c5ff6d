/**
 * A call survives a network drop without a page reload. The call is forced through a local coturn
 * (relay only), so killing coturn cuts the only media path; coturn then comes back on the same
 * port with the same secret (the credentials the server handed out stay valid), and the kiosk's
 * peer must restart ICE by itself until video and audio flow again both ways, in the same
 * documents, with every ICE state change in the kiosk's log.
 */
import type { Page } from '@playwright/test';
import type { TurnServer } from './support/turn-server.js';
import { callKey, expect, test, type GuardConsole, type Site } from './support/intercom.js';
import {
  expectRelayed,
  noPeerStats,
  peerStats,
  pollPeerStats,
  type PeerStats,
} from './support/webrtc-stats.js';

// Kiosk start-up plus a first connection to the server.
const callableTimeoutMs = 15_000;
// Offer, answer and ICE through TURN on loopback take well under a second; CI needs room.
const mediaTimeoutMs = 20_000;
// Chromium calls a path whose checks go unanswered disconnected after about 5 s, failed about
// 10 s later; the kiosk's first restart comes 2 s after the disconnection.
const dropTimeoutMs = 20_000;
const failTimeoutMs = 30_000;
// The recovery the project promises: media back within this time of the network returning.
const recoveryTimeoutMs = 20_000;
// Fresh frames that prove video moves, not one late frame: about half a second of camera.
const freshVideoFrames = 10;
/**
 * Chromium retransmits a TURN allocation for about 40 s (STUN's default schedule), so a relay
 * that returns within that time of the last ICE restart is found by that restart's own requests.
 * An outage this much longer than the failure is one no earlier restart can recover from.
 */
const longOutageAfterFailureMs = 45_000;

function screen(page: Page, name: string) {
  return page.locator(`[data-screen="${name}"]`);
}

/** A call in progress through the site's coturn, media flowing both ways. */
interface RelayedCall {
  site: Site;
  guard: GuardConsole;
  turn: TurnServer;
  callId: string;
  /** What the kiosk page logged to its console, to count its peer's ICE restarts. */
  kioskConsole: string[];
  documents: { kiosk: DocumentMark; guard: DocumentMark };
}

/** What proves a page was never reloaded: its document's start time and main-frame navigations. */
interface DocumentMark {
  timeOrigin: number;
  navigations: () => number;
}

/** Marks the page's current document; navigations are counted from now on. */
async function markDocument(page: Page): Promise<DocumentMark> {
  let navigations = 0;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations += 1;
  });
  await page.evaluate('window.__sameDocument = true');
  return { timeOrigin: await timeOrigin(page), navigations: () => navigations };
}

function timeOrigin(page: Page): Promise<number> {
  return page.evaluate<number>('performance.timeOrigin');
}

/** The page still shows the document marked by markDocument(). */
async function expectSameDocument(page: Page, mark: DocumentMark): Promise<void> {
  expect(mark.navigations(), 'main-frame navigations since the mark').toBe(0);
  expect(await timeOrigin(page)).toBe(mark.timeOrigin);
  expect(await page.evaluate('window.__sameDocument === true')).toBe(true);
}

/** The text of every console message the page writes from now on. */
function consoleLines(page: Page): string[] {
  const lines: string[] = [];
  page.on('console', (message) => lines.push(message.text()));
  return lines;
}

/**
 * Resolves once fresh video frames and audio packets arrive at the page after `since`: on the
 * same connection the counters grow past `since`; on a newer one they grow from zero.
 */
async function expectMediaGrowing(
  page: Page,
  side: string,
  since: PeerStats,
  timeout: number,
): Promise<PeerStats> {
  const grown = (stats: PeerStats) => {
    if (stats.peers < since.peers) return false;

    const base = stats.peers === since.peers ? since : noPeerStats;
    return (
      stats.videoFramesDecoded >= base.videoFramesDecoded + freshVideoFrames &&
      stats.audioPacketsReceived > base.audioPacketsReceived
    );
  };

  const message = `fresh video frames and audio arrive at the ${side}`;
  await pollPeerStats(page, grown, message, timeout).toBe(true);
  return peerStats(page);
}

/** Resolves once the page's connection reads `state` (ICE's, or the whole connection's). */
async function expectState(
  page: Page,
  side: string,
  state: RegExp,
  timeout: number,
): Promise<PeerStats> {
  const states = (stats: PeerStats) => `${stats.iceConnectionState}/${stats.connectionState}`;
  const message = `the ${side}'s connection state (ICE/connection)`;

  await pollPeerStats(page, states, message, timeout).toMatch(state);
  return peerStats(page);
}

/** Rings the guard from the kiosk's call key and answers in the console; resolves to the call id. */
async function placeAndAnswer(site: Site, guard: GuardConsole): Promise<string> {
  const { page } = site.kiosk;
  await expect(screen(page, 'idle')).toBeVisible({ timeout: callableTimeoutMs });
  await expect(page.getByTestId('call-guard')).toBeEnabled({ timeout: callableTimeoutMs });

  await page.keyboard.press(callKey);
  const card = guard.incomingCall();
  await expect(card).toHaveCount(1);
  const callId = (await card.getAttribute('data-call-id')) ?? '';
  expect(callId, 'the ringing card names its call').not.toBe('');

  await card.getByTestId('answer').click();
  await expect(guard.page.getByTestId('active-call')).toHaveAttribute('data-call-id', callId);
  await expect(screen(page, 'inCall')).toBeVisible();
  return callId;
}

/** Calls the guard through the site's coturn and waits for media both ways over the relay. */
async function startRelayedCall(site: Site): Promise<RelayedCall> {
  const turn = site.turn;
  if (!turn) throw new Error('the site was started without TURN');
  const kioskConsole = consoleLines(site.kiosk.page);
  const guard = await site.openConsole('anna', { shareCamera: true });

  const callId = await placeAndAnswer(site, guard);
  expectRelayed({
    kiosk: await expectMediaGrowing(site.kiosk.page, 'kiosk', noPeerStats, mediaTimeoutMs),
    guard: await expectMediaGrowing(guard.page, 'guard', noPeerStats, mediaTimeoutMs),
  });

  const documents = {
    kiosk: await markDocument(site.kiosk.page),
    guard: await markDocument(guard.page),
  };
  return { site, guard, turn, callId, kioskConsole, documents };
}

/** Kills coturn and waits until both ends have lost the path; resolves to their stats then. */
async function dropRelay(call: RelayedCall): Promise<{ kiosk: PeerStats; guard: PeerStats }> {
  await call.turn.kill();

  const down = /^(disconnected|failed)\//;
  return {
    kiosk: await expectState(call.site.kiosk.page, 'kiosk', down, dropTimeoutMs),
    guard: await expectState(call.guard.page, 'guard', down, dropTimeoutMs),
  };
}

/** Restarted ICE offers the kiosk's peer has logged so far. */
function restartOffers(call: RelayedCall): number {
  return call.kioskConsole.filter((line) => /offer: sent.*iceRestart: true/.test(line)).length;
}

/**
 * Starts coturn again and checks the call recovered: fresh media both ways over the relay within
 * recoveryTimeoutMs, on new allocations (so by ICE restart), in the same documents and the same
 * call, with the kiosk's log telling the connection went down and came back.
 */
async function expectRecoveryAfterReturn(
  call: RelayedCall,
  dropped: { kiosk: PeerStats; guard: PeerStats },
): Promise<void> {
  const { site, guard, turn, callId } = call;
  await turn.start();
  const returnedAt = Date.now();

  const after = {
    kiosk: await expectMediaGrowing(site.kiosk.page, 'kiosk', dropped.kiosk, recoveryTimeoutMs),
    guard: await expectMediaGrowing(guard.page, 'guard', dropped.guard, recoveryTimeoutMs),
  };
  test.info().annotations.push({
    type: 'media back both ways after the relay returned',
    description: `${Date.now() - returnedAt} ms, ${restartOffers(call)} ICE restart offers`,
  });
  expectRelayed(after);
  expect(restartOffers(call), 'ICE restart offers from the kiosk').toBeGreaterThan(0);
  const allocated = allocationsAfterReturn(turn);
  expect(allocated, 'relays allocated on the returned coturn').toContain(`kiosk-${site.kioskId}`);
  expect(allocated.some((label) => label.startsWith('guard-'))).toBe(true);

  await expectSameDocument(site.kiosk.page, call.documents.kiosk);
  await expectSameDocument(guard.page, call.documents.guard);
  await expect(screen(site.kiosk.page, 'inCall')).toBeVisible();
  await expect(guard.page.getByTestId('active-call')).toHaveAttribute('data-call-id', callId);
  expect(wentDownAndUp(mediaStates(site.kiosk.hostLog(), callId))).toBe(true);
}

/**
 * Who allocated a relay on coturn's latest run, by the label of their TURN username
 * (`<expiry>:<label>`, e.g. `kiosk-north-gate`): the old allocations died with the old run.
 */
function allocationsAfterReturn(turn: TurnServer): string[] {
  const log = turn.log();
  const latestRun = log.slice(log.lastIndexOf('--- turnserver run '));
  const allocations = latestRun.matchAll(
    /user <\d+:([^>]+)>: incoming packet ALLOCATE processed, success/g,
  );
  return [...new Set([...allocations].map((match) => match[1]))];
}

/** One `media: state changed` line of the kiosk host's log. */
interface MediaStateLine {
  callId: string;
  iceConnectionState: string;
  connectionState: string;
}

/** The kiosk core's log of its page's peer connection states for `callId`, in order. */
function mediaStates(hostLog: string, callId: string): MediaStateLine[] {
  const lines: MediaStateLine[] = [];
  for (const text of hostLog.split('\n')) {
    if (!text.includes('"media: state changed"')) continue;

    const line = JSON.parse(text) as MediaStateLine;
    if (line.callId === callId) lines.push(line);
  }
  return lines;
}

/** The states went up (ICE connected), then down (disconnected or failed), then up again. */
function wentDownAndUp(states: MediaStateLine[]): boolean {
  const up = (line: MediaStateLine) => /^(connected|completed)$/.test(line.iceConnectionState);
  const down = (line: MediaStateLine) => /^(disconnected|failed)$/.test(line.iceConnectionState);
  const firstDown = states.findIndex(down);

  return firstDown > 0 && states.slice(0, firstDown).some(up) && states.slice(firstDown).some(up);
}

test.describe('a call through TURN when the network drops', () => {
  test('after the kiosk restarted ICE in vain while the relay was gone, media comes back both ways once it returns, with no page reload', async ({
    site: sites,
  }) => {
    const call = await startRelayedCall(await sites.start({ turnOnly: true }));

    const dropped = await dropRelay(call);
    // The kiosk's first restart finds no relay: the one that recovers must come later.
    await expect
      .poll(() => restartOffers(call), {
        message: 'the kiosk restarts ICE while the relay is gone',
        timeout: dropTimeoutMs,
      })
      .toBeGreaterThan(0);

    await expectRecoveryAfterReturn(call, dropped);
    await call.guard.page.getByTestId('hangup').click();
    await expect(screen(call.site.kiosk.page, 'callEnded')).toBeVisible();
  });

  test('after an outage longer than the browser retries a restart for, media still comes back both ways with no page reload', async ({
    site: sites,
  }) => {
    // The outage alone takes most of a minute.
    test.setTimeout(120_000);
    const call = await startRelayedCall(await sites.start({ turnOnly: true }));

    const dropped = await dropRelay(call);
    const failed = /\/failed$/;
    await expectState(call.site.kiosk.page, 'kiosk', failed, failTimeoutMs);
    await expectState(call.guard.page, 'guard', failed, failTimeoutMs);
    // The network stays away: this is the length of the outage, not a wait for something.
    await call.site.kiosk.page.waitForTimeout(longOutageAfterFailureMs);
    expect(restartOffers(call), 'the kiosk kept restarting ICE').toBeGreaterThan(3);

    await expectRecoveryAfterReturn(call, dropped);
  });
});
