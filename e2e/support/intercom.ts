/**
 * A whole site for one call test: the real intercom server (a child process on a scratch store),
 * its guards in a ring group, a kiosk enrolled in it (the browser host with its relay board on a
 * pseudo-terminal, its page in Chromium with a fake camera and microphone) and each guard's
 * console in a browser context of its own, also with a fake camera and microphone. Every page
 * records its peer connections for getStats(). A failed test keeps the server's log, each
 * console's page log and screenshot, and the TURN server's log, beside the kiosk's evidence.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page, type TestInfo } from '@playwright/test';
import type { SiteKeyPair } from '../../app/core/passes.js';
import { chromiumPath, quietBrowserArgs } from './browser.js';
import { IntercomApi, startIntercomServer, type IntercomServer } from './intercom-server.js';
import {
  expect,
  startKioskSystem,
  test as kioskTest,
  type KioskSystem,
  type KioskSystemOptions,
} from './kiosk-fixture.js';
import { startTurnServer, type TurnServer } from './turn-server.js';
import { makeBlankVideo } from './video.js';
import { recordPeerConnections } from './webrtc-stats.js';

/** The call button key the test kiosks are configured with. */
export const callKey = 'F9';
/** What the kiosk tells a visitor nobody answered. */
export const fallbackText = 'Please call the property office: 010-5550 0199';
/** Seconds from an open to the kiosk hanging up. */
export const hangUpAfterOpenSeconds = 2;

/** What a test asks of its site. */
export interface SiteOptions {
  /** Guards of the kiosk's ring group, by name; one, `anna`, when omitted. */
  guards?: string[];
  /** Intercom server configuration merged over the test defaults. */
  server?: Record<string, unknown>;
  /** Kiosk configuration merged over the site's (the intercom part is merged one level deep). */
  kiosk?: Record<string, unknown>;
  /** The kiosk presents this secret instead of the one it was enrolled with. */
  kioskSecret?: string;
  /** Starts a local coturn and points the server's ICE settings at it, relay only. */
  turnOnly?: boolean;
  /** The kiosk camera's video; an empty scene when omitted. */
  videoFile?: string;
  /** Leaves the kiosk to `site.startKiosk()`, e.g. once the video it must show exists. */
  deferKiosk?: boolean;
}

/** What a deferred kiosk is started with. */
export interface DeferredKioskOptions {
  videoFile?: string;
  /** The site keys its passes are checked with. */
  passesKeys?: SiteKeyPair;
}

/** A guard's console, logged in. */
export interface GuardConsole {
  readonly name: string;
  readonly page: Page;
  /** A separate API session of the same guard, for what the page does not offer. */
  api(): Promise<IntercomApi>;
  /** The ringing card of a call (any call when `callId` is omitted). */
  incomingCall(callId?: string): Locator;
}

/** How a guard's console starts. */
export interface ConsoleOptions {
  /**
   * The guard chose, on an earlier shift, to share their camera in calls: the console remembers
   * that in the browser's storage, so calls start with it. Off by default, as in the console.
   */
  shareCamera?: boolean;
}

/** Where the console keeps the guard's camera choice in the browser's local storage. */
const shareCameraStorageKey = 'guard-console.share-camera';

/** A running site. */
export interface Site {
  server: IntercomServer;
  admin: IntercomApi;
  /** The site's kiosk; with `deferKiosk`, only after startKiosk(). */
  readonly kiosk: KioskSystem;
  kioskId: string;
  kioskName: string;
  /** Starts the kiosk of a site started with `deferKiosk`. */
  startKiosk(options?: DeferredKioskOptions): Promise<KioskSystem>;
  turn: TurnServer | undefined;
  /** Opens the console of one of the site's guards and logs in through its form. */
  openConsole(guard: string, options?: ConsoleOptions): Promise<GuardConsole>;
}

/** The `site` fixture: starts one site for a test and stops it afterwards, whatever happened. */
export interface SiteFixtures {
  site: { start(options?: SiteOptions): Promise<Site> };
}

interface Parts {
  dir: string;
  /** Set when the site started the kiosk itself and must stop it. */
  kiosk?: KioskSystem;
  server?: IntercomServer;
  turn?: TurnServer;
  consoles: Browser | undefined;
  pages: Array<{ name: string; page: Page; log: string[] }>;
}

const guardPassword = (name: string) => `${name} password for e2e`;
const connectTimeoutMs = 15_000;

/** A site and how to end it; `startSite` makes one outside the `site` fixture (benchmarks). */
export interface RunningSite extends Site {
  /** Attaches the server's and TURN's logs and each console's page log and screenshot. */
  attachEvidence(testInfo: TestInfo): Promise<void>;
  /** Stops the consoles, the server, TURN and, when the site started it, the kiosk. */
  stop(): Promise<void>;
}

/**
 * Starts a site: TURN if asked, the server, its guards and ring group, then the kiosk with
 * `startKiosk` (the `kiosk` fixture's in tests; by default one the site owns and stops).
 */
export async function startSite(
  options: SiteOptions = {},
  startKiosk?: (options: KioskSystemOptions) => Promise<KioskSystem>,
): Promise<RunningSite> {
  const parts: Parts = {
    dir: await mkdtemp(path.join(tmpdir(), 'kiosk-site-')),
    consoles: undefined,
    pages: [],
  };
  try {
    const site = await startParts(parts, options, startKiosk ?? ownedKiosk(parts));
    // Onto the site itself: spreading it would read its kiosk getter before a deferred start.
    return Object.assign(site, {
      attachEvidence: (testInfo: TestInfo) => attachEvidence(parts, testInfo),
      stop: () => stopParts(parts),
    });
  } catch (error) {
    await stopParts(parts);
    const log = parts.server?.log();
    if (!log) throw error;
    throw new Error(
      `${(error as Error).message}\n--- intercom server stderr ---\n${log.slice(-20_000)}`,
      {
        cause: error,
      },
    );
  }
}

function ownedKiosk(parts: Parts): (options: KioskSystemOptions) => Promise<KioskSystem> {
  return async (options) => {
    const kiosk = await startKioskSystem(options);
    parts.kiosk = kiosk;
    return kiosk;
  };
}

async function startParts(
  parts: Parts,
  options: SiteOptions,
  startKiosk: (options: KioskSystemOptions) => Promise<KioskSystem>,
): Promise<Site> {
  if (options.turnOnly) parts.turn = await startTurnServer();
  const server = await startIntercomServer({
    dir: path.join(parts.dir, 'intercom'),
    config: serverConfig(options, parts.turn),
  });
  parts.server = server;

  const admin = await IntercomApi.login(server.url);
  const guardNames = options.guards ?? ['anna'];
  const guardIds: number[] = [];
  for (const name of guardNames)
    guardIds.push(await admin.createGuard({ name, password: guardPassword(name) }));
  await admin.saveRingGroup('front-desk', guardIds);

  const kioskId = 'north-gate';
  const kioskName = 'North gate kiosk';
  const secret = await admin.enrolKiosk(kioskId, kioskName, 'front-desk');
  let kiosk: KioskSystem | undefined;
  const startSiteKiosk = async (deferred: DeferredKioskOptions = {}) => {
    if (kiosk) throw new Error('the site has its kiosk already');
    kiosk = await startKiosk({
      videoFile:
        deferred.videoFile ??
        options.videoFile ??
        (await makeBlankVideo({ out: path.join(parts.dir, 'kiosk-camera.y4m') })),
      passesKeys: deferred.passesKeys,
      config: kioskConfig(server, kioskId, options.kioskSecret ?? secret, options.kiosk ?? {}),
      prepareContext: recordPeerConnections,
    });
    return kiosk;
  };
  if (!options.deferKiosk) await startSiteKiosk();

  return {
    server,
    admin,
    get kiosk() {
      if (!kiosk) throw new Error('the kiosk is not started yet: call site.startKiosk()');
      return kiosk;
    },
    kioskId,
    kioskName,
    startKiosk: startSiteKiosk,
    turn: parts.turn,
    openConsole: (guard, consoleOptions) => openConsole(parts, server, guard, consoleOptions),
  };
}

function serverConfig(options: SiteOptions, turn: TurnServer | undefined): Record<string, unknown> {
  const config: Record<string, unknown> = { ...options.server };
  if (turn) {
    config.ice = {
      turnUrls: [turn.url],
      turnSecret: turn.secret,
      transportPolicy: 'relay',
      ...(config.ice as Record<string, unknown> | undefined),
    };
  }
  return config;
}

function kioskConfig(
  server: IntercomServer,
  kioskId: string,
  secret: string,
  overrides: Record<string, unknown>,
): Record<string, unknown> {
  const intercom = {
    url: server.kioskChannelUrl,
    kioskId,
    secret,
    // A restarted server should find the kiosk back within a second or two.
    reconnectMinMs: 200,
    reconnectMaxMs: 1_000,
    fallback: fallbackText,
    hangUpAfterOpenSeconds,
    ...(overrides.intercom as Record<string, unknown> | undefined),
  };
  return { callButton: { key: callKey }, ...overrides, intercom };
}

/** One Chromium for every console of the test, with a fake camera and microphone. */
async function consoleBrowser(parts: Parts): Promise<Browser> {
  parts.consoles ??= await chromium.launch({
    executablePath: chromiumPath,
    args: [
      ...quietBrowserArgs,
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
    ],
    timeout: 30_000,
  });
  return parts.consoles;
}

async function openConsole(
  parts: Parts,
  server: IntercomServer,
  name: string,
  options: ConsoleOptions = {},
): Promise<GuardConsole> {
  const browser = await consoleBrowser(parts);
  const localStorage = options.shareCamera ? [{ name: shareCameraStorageKey, value: 'on' }] : [];
  const context = await browser.newContext({
    baseURL: server.url,
    viewport: { width: 1440, height: 900 },
    locale: 'en-GB',
    storageState: { cookies: [], origins: [{ origin: server.url, localStorage }] },
  });
  await context.grantPermissions(['camera', 'microphone'], { origin: server.url });
  await recordPeerConnections(context);
  const page = await context.newPage();
  watchPage(parts, name, page);

  await logIn(page, name);
  return {
    name,
    page,
    api: () => IntercomApi.login(server.url, { name, password: guardPassword(name) }),
    incomingCall: (callId) =>
      callId === undefined
        ? page.getByTestId('incoming-call')
        : page.locator(`[data-testid="incoming-call"][data-call-id="${callId}"]`),
  };
}

/** Logs in through the console's own form and waits for its guard channel to connect. */
async function logIn(page: Page, name: string): Promise<void> {
  await page.goto('/');
  await page.locator('input[name="name"]').fill(name);
  await page.locator('input[name="password"]').fill(guardPassword(name));
  await page.getByTestId('login-submit').click();

  await expect(page.getByTestId('console-connection')).toHaveAttribute('data-state', 'connected', {
    timeout: connectTimeoutMs,
  });
}

function watchPage(parts: Parts, name: string, page: Page): void {
  const log: string[] = [];
  parts.pages.push({ name, page, log });
  page.on('console', (message) => log.push(`[${message.type()}] ${message.text()}`));
  page.on('pageerror', (error) => log.push(`[pageerror] ${error.stack ?? error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400)
      log.push(`[http ${response.status()}] ${new URL(response.url()).pathname}`);
  });
}

async function attachEvidence(parts: Parts, testInfo: TestInfo): Promise<void> {
  if (parts.server)
    await testInfo.attach('intercom-server-stderr.log', {
      body: parts.server.log(),
      contentType: 'text/plain',
    });
  if (parts.turn)
    await testInfo.attach('turnserver.log', { body: parts.turn.log(), contentType: 'text/plain' });

  for (const { name, page, log } of parts.pages) {
    await testInfo.attach(`console-${name}-page.log`, {
      body: log.join('\n'),
      contentType: 'text/plain',
    });
    const shot = await page.screenshot({ timeout: 5_000 }).catch(() => undefined);
    if (shot)
      await testInfo.attach(`console-${name}-screen.png`, { body: shot, contentType: 'image/png' });
  }
}

async function stopParts(parts: Parts): Promise<void> {
  await parts.consoles?.close().catch(() => undefined);
  await parts.kiosk?.stop().catch(() => undefined);
  await parts.server?.stop().catch(() => undefined);
  await parts.turn?.stop().catch(() => undefined);
  await rm(parts.dir, { recursive: true, force: true });
}

/** The kiosk fixture's `test` with a `site` fixture; the kiosk's own evidence is kept too. */
export const test = kioskTest.extend<SiteFixtures>({
  site: async ({ kiosk }, use, testInfo) => {
    const sites: RunningSite[] = [];
    await use({
      start: async (options = {}) => {
        const site = await startSite(options, (kioskOptions) => kiosk.start(kioskOptions));
        sites.push(site);
        return site;
      },
    });

    const failed = testInfo.status !== testInfo.expectedStatus;
    for (const site of sites) {
      if (failed) await site.attachEvidence(testInfo).catch(() => undefined);
      await site.stop();
    }
  },
});

/** A secret no kiosk was enrolled with. */
export function strangerSecret(): string {
  return randomBytes(24).toString('base64url');
}

export { expect };
