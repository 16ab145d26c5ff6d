/**
 * The whole kiosk for one end-to-end test: a socat pair standing in for the relay board's USB
 * cable, the LCUS simulator playing the board on one end, the browser host (its core driving the
 * relay on the other end) and Chromium whose camera plays a video. Everything it starts it stops,
 * in reverse order, also when the test fails; a failed test keeps the host's log, the page's
 * console, the relay frames and a screenshot in its report (and Playwright's trace).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test as base, type BrowserContext, type Page, type TestInfo } from '@playwright/test';
import {
  generateSiteKeys,
  issuePass,
  type PassClaims,
  type SiteKeyPair,
} from '../../app/core/passes.js';
import { moduleLogger } from '../../app/core/log.js';
import type { KioskStore } from '../../app/core/ports.js';
import { openStore } from '../../app/core/store.js';
import { LcusSimulator } from '../../native/relay/lcus-simulator.js';
import { SerialScannerSimulator } from '../../native/scanner/serial-scanner-simulator.js';
import { startPtyPair, type PtyPair } from '../../native/testing/pty-pair.js';
import { launchWithFakeCamera } from './browser.js';
import { startHostProcess, type HostProcess } from './host-process.js';
import { hostCli } from './paths.js';
import { screenshotPath } from './screens.js';

const log = moduleLogger('e2e.kiosk-fixture');

/** The site and gate every end-to-end kiosk is configured for. */
export const e2eSite = 'e2e-site';
export const e2eGate = 'e2e-gate';

/** One frame the simulated relay board received. */
export type { SimulatedFrame as RelayFrame } from '../../native/relay/lcus-simulator.js';

/** What a test asks of the kiosk it starts. */
export interface KioskSystemOptions {
  /** The `.y4m` video Chromium plays as its camera. */
  videoFile: string;
  /** The site keys passes are signed with; new ones when omitted. */
  passesKeys?: SiteKeyPair;
  /** How long the relay closes for each opening. */
  pulseMs?: number;
  /**
   * More configuration: each top-level field replaces the default's, except objects, which are
   * merged one level deep (so `{ timeouts: { scanSeconds: 5 } }` keeps the other timeouts).
   */
  config?: Record<string, unknown>;
  /** Runs on the page's browser context before the page loads, e.g. to add init scripts. */
  prepareContext?: (context: BrowserContext) => Promise<void>;
  /** The kiosk's screen; a 1920x1080 panel, the commonest kiosk display, when omitted. */
  viewport?: { width: number; height: number };
  /** Give the kiosk a serial pass scanner, played by its simulator on a pseudo-terminal pair. */
  serialScanner?: boolean;
}

/** A simulated serial scanner and its "USB cable". */
export interface SimulatedScanner {
  simulator: SerialScannerSimulator;
  pair: PtyPair;
}

/** A running kiosk with handles on each part of it. */
export interface KioskSystem {
  page: Page;
  simulator: LcusSimulator;
  /** The relay board's "USB cable": unplug() and replug() it to test a vanishing device. */
  pair: PtyPair;
  /** The serial scanner, when the options asked for one. */
  scanner?: SimulatedScanner;
  /** The page's address, with its access token. */
  url: string;
  keys: SiteKeyPair;
  /** The configuration file the host was started with, as written. */
  config: Readonly<Record<string, unknown>>;
  /** Signs a pass with this kiosk's site key; unnamed claims get valid defaults for this gate. */
  issue(claims?: Partial<PassClaims>): Promise<string>;
  /** Opens the kiosk's encrypted store beside the host; closed by `stop()` if not before. */
  openStoreReadOnly(): KioskStore;
  /** Saves the page as test-results/screens/<name>.png; resolves to the file. */
  screenshot(name: string): Promise<string>;
  /** The host's stderr so far. */
  hostLog(): string;
  /** Attaches the host's log, the page's console, the relay frames and a screenshot. */
  attachEvidence(testInfo: TestInfo, label?: string): Promise<void>;
  /** Stops everything this system started; safe to call more than once. */
  stop(): Promise<void>;
}

/** The `kiosk` fixture: starts kiosks for a test and stops them after it, whatever happened. */
export interface KioskFixtures {
  kiosk: { start(options: KioskSystemOptions): Promise<KioskSystem> };
}

type Cleanup = () => unknown;

interface Parts {
  dir: string;
  storeKey: string;
  cleanups: Cleanup[];
  pair?: PtyPair;
  simulator?: LcusSimulator;
  scanner?: SimulatedScanner;
  host?: HostProcess;
  page?: Page;
  pageLog: string[];
}

const readyTimeoutMs = 15_000;
const stopStepTimeoutMs = 10_000;

/** Claims of a pass valid now, for an hour, once, at the end-to-end gate. */
export function validClaims(overrides: Partial<PassClaims> = {}): PassClaims {
  const now = Math.floor(Date.now() / 1000);
  return {
    passId: `e2e-${randomUUID()}`,
    site: e2eSite,
    gates: [e2eGate],
    notBefore: now - 60,
    expires: now + 3600,
    entries: 1,
    hostUnit: '3-1202',
    maskedName: '王*明',
    ...overrides,
  };
}

/** Starts the whole kiosk; on any failure it stops what it had started and rethrows. */
export async function startKioskSystem(options: KioskSystemOptions): Promise<KioskSystem> {
  const keys = options.passesKeys ?? (await generateSiteKeys());
  const parts: Parts = {
    dir: await mkdtemp(path.join(tmpdir(), 'kiosk-e2e-')),
    storeKey: randomBytes(24).toString('base64url'),
    cleanups: [],
    pageLog: [],
  };
  parts.cleanups.push(() => rm(parts.dir, { recursive: true, force: true }));

  try {
    const config = await startDevicesAndHost(parts, keys, options);
    await openKioskPage(parts, options);
    return systemOf(parts, keys, config);
  } catch (error) {
    const log = parts.host?.log() ?? '';
    await runCleanups(parts.cleanups);
    if (!log || (error as Error).message.includes('--- host stderr ---')) throw error;
    throw new Error(`${(error as Error).message}\n--- host stderr ---\n${log.slice(-20_000)}`, {
      cause: error,
    });
  }
}

async function startDevicesAndHost(
  parts: Parts,
  keys: SiteKeyPair,
  options: KioskSystemOptions,
): Promise<Record<string, unknown>> {
  const ptyDir = path.join(parts.dir, 'pty');
  await mkdir(ptyDir);
  const pair = await startPtyPair(ptyDir);
  parts.pair = pair;
  parts.cleanups.push(() => pair.close());

  const simulator = await LcusSimulator.open(pair.b);
  parts.simulator = simulator;
  parts.cleanups.push(() => simulator.close());

  const devices = options.serialScanner ? await startScanner(parts, ptyDir) : {};
  const config = withOverrides(
    { ...kioskConfig(parts, keys, pair.a, options.pulseMs ?? 800), ...devices },
    options.config ?? {},
  );
  const configFile = path.join(parts.dir, 'kiosk.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));

  const host = await startHostProcess({ cli: hostCli, configFile });
  parts.host = host;
  parts.cleanups.push(() => host.stop());
  return config;
}

/** Starts the scanner's pair and simulator; returns the kiosk's scanner configuration. */
async function startScanner(parts: Parts, ptyDir: string): Promise<Record<string, unknown>> {
  const dir = path.join(ptyDir, 'scanner');
  await mkdir(dir);
  const pair = await startPtyPair(dir);
  parts.cleanups.push(() => pair.close());

  const simulator = await SerialScannerSimulator.open(pair.b);
  parts.cleanups.push(() => simulator.close());
  parts.scanner = { simulator, pair };
  return { scanner: { serial: { port: pair.a } } };
}

function kioskConfig(
  parts: Parts,
  keys: SiteKeyPair,
  relayPort: string,
  pulseMs: number,
): Record<string, unknown> {
  return {
    site: e2eSite,
    siteName: 'End-to-end compound',
    gate: e2eGate,
    gateName: 'Test gate',
    dataDir: path.join(parts.dir, 'data'),
    storeKey: parts.storeKey,
    relay: { kind: 'lcus', port: relayPort, pulseMs },
    passes: { publicKeys: [keys.publicJwk] },
  };
}

function withOverrides(
  config: Record<string, unknown>,
  overrides: Record<string, unknown>,
): Record<string, unknown> {
  const merged = { ...config };
  for (const [key, value] of Object.entries(overrides)) {
    const base = merged[key];
    merged[key] = isPlainObject(base) && isPlainObject(value) ? { ...base, ...value } : value;
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function openKioskPage(parts: Parts, options: KioskSystemOptions): Promise<void> {
  const browser = await launchWithFakeCamera(options.videoFile);
  parts.cleanups.push(() => browser.close());

  const url = new URL(parts.host!.url);
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1920, height: 1080 },
    locale: 'zh-CN',
  });
  // Playwright traces this context itself (config `trace`), as it does every context it launches.
  // The microphone carries the visitor's voice in a call to a guard.
  await context.grantPermissions(['camera', 'microphone'], { origin: url.origin });
  await options.prepareContext?.(context);

  const page = await context.newPage();
  parts.page = page;
  page.on('console', (message) => parts.pageLog.push(`[${message.type()}] ${message.text()}`));
  // Only the path: the page's own URL carries its access token.
  page.on('response', (response) => {
    if (response.status() >= 400)
      parts.pageLog.push(`[http ${response.status()}] ${new URL(response.url()).pathname}`);
  });
  page.on('pageerror', (error) =>
    parts.pageLog.push(`[pageerror] ${error.stack ?? error.message}`),
  );

  await page.goto(url.href);
  await page
    .locator('[data-screen]')
    .first()
    .waitFor({ state: 'visible', timeout: readyTimeoutMs });
}

function systemOf(parts: Parts, keys: SiteKeyPair, config: Record<string, unknown>): KioskSystem {
  const stores: KioskStore[] = [];
  let stopping: Promise<void> | undefined;

  return {
    page: parts.page!,
    simulator: parts.simulator!,
    pair: parts.pair!,
    scanner: parts.scanner,
    url: parts.host!.url,
    keys,
    config,
    issue: (claims) => issuePass(keys.privateJwk, validClaims(claims)),
    openStoreReadOnly: () => {
      const store = openStore({
        file: path.join(parts.dir, 'data', 'kiosk.db'),
        key: parts.storeKey,
      });
      stores.push(store);
      return store;
    },
    screenshot: async (name) => {
      const file = screenshotPath(name);
      await parts.page!.screenshot({ path: file });
      return file;
    },
    hostLog: () => parts.host!.log(),
    attachEvidence: (testInfo, label = 'kiosk') => attachEvidence(parts, testInfo, label),
    stop: () => {
      stopping ??= runCleanups([...parts.cleanups, ...stores.map((store) => () => store.close())]);
      return stopping;
    },
  };
}

/** Runs cleanups newest first; each is bounded in time and one failing does not stop the rest. */
async function runCleanups(cleanups: Cleanup[]): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, stopStepTimeoutMs)));
    try {
      await Promise.race([Promise.resolve().then(cleanup), late]);
    } catch (error) {
      log.warn({ err: error }, 'stop: a cleanup failed');
    } finally {
      clearTimeout(timer);
    }
  }
}

async function attachEvidence(parts: Parts, testInfo: TestInfo, label: string): Promise<void> {
  const frames = parts.simulator?.frames() ?? [];
  await testInfo.attach(`${label}-host-stderr.log`, {
    body: parts.host?.log() ?? '',
    contentType: 'text/plain',
  });
  await testInfo.attach(`${label}-page-console.log`, {
    body: parts.pageLog.join('\n'),
    contentType: 'text/plain',
  });
  await testInfo.attach(`${label}-relay-frames.json`, {
    body: JSON.stringify(frames, hexBytes, 2),
    contentType: 'application/json',
  });

  const shot = await parts.page?.screenshot({ timeout: 5_000 }).catch(() => undefined);
  if (shot) await testInfo.attach(`${label}-screen.png`, { body: shot, contentType: 'image/png' });
}

function hexBytes(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value;
}

/** Playwright's `test` with the `kiosk` fixture; a failed test gets each kiosk's evidence attached. */
export const test = base.extend<KioskFixtures>({
  // Playwright reads the fixtures a fixture needs from its first parameter: this one needs none.
  // eslint-disable-next-line no-empty-pattern
  kiosk: async ({}, use, testInfo) => {
    const started: KioskSystem[] = [];
    await use({
      start: async (options) => {
        const system = await startKioskSystem(options);
        started.push(system);
        return system;
      },
    });

    const failed = testInfo.status !== testInfo.expectedStatus;
    for (const [index, system] of started.entries()) {
      if (failed) await system.attachEvidence(testInfo, `kiosk${index + 1}`).catch(() => undefined);
      await system.stop();
    }
  },
});

export { expect } from '@playwright/test';
