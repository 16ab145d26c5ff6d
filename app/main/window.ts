/**
 * The kiosk window and its lockdown. The page inside is untrusted: it runs sandboxed with context
 * isolation, cannot navigate away or open windows, gets only the camera and microphone, and is
 * reloaded when its process dies or hangs.
 */
import {
  app,
  BrowserWindow,
  Menu,
  type BrowserWindowConstructorOptions,
  type Session,
  type WebContents,
} from 'electron';
import { moduleLogger } from '../core/log.js';
import { appEntryUrl, isAppUrl, originForLog } from './app-origin.js';

const log = moduleLogger('main.window');

/** Where the window's parts live and whether developer tools are allowed. */
export interface KioskWindowOptions {
  preloadPath: string;
  devTools: boolean;
  url?: string;
}

/** The BrowserWindow options: full-screen kiosk mode and every renderer hardening switch on. */
export function kioskWindowOptions(
  preloadPath: string,
  devTools: boolean,
): BrowserWindowConstructorOptions {
  return {
    kiosk: true,
    fullscreen: true,
    autoHideMenuBar: true,
    show: false,
    backgroundColor: '#000000',
    webPreferences: {
      preload: preloadPath,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      devTools,
      // The guard's voice and the ring tone must play without a tap on the screen first.
      autoplayPolicy: 'no-user-gesture-required',
    },
  };
}

/** Opens the kiosk window on the renderer's entry page with the lockdown applied. */
export function createKioskWindow(options: KioskWindowOptions): BrowserWindow {
  const window = new BrowserWindow(kioskWindowOptions(options.preloadPath, options.devTools));

  lockDownWebContents(window.webContents);
  applyPermissionPolicy(window.webContents.session);
  keepRendererAlive(window);
  window.once('ready-to-show', () => window.show());

  const url = options.url ?? appEntryUrl;
  window
    .loadURL(url)
    .catch((error: unknown) => log.error({ err: error }, 'load: entry page failed'));
  log.info({ devTools: options.devTools }, 'create: kiosk window opened');
  return window;
}

/**
 * App-wide guards: no application menu (its accelerators reload the page or open developer
 * tools) and the same lockdown on any web contents that ever appears, not only our window.
 */
export function hardenApp(): void {
  Menu.setApplicationMenu(null);

  app.on('web-contents-created', (_event, contents) => {
    lockDownWebContents(contents);
    contents.on('will-attach-webview', (event) => {
      event.preventDefault();
      log.warn('webview: attaching refused');
    });
  });
}

/** Refuses navigation and redirects away from the app origin and denies every new window. */
export function lockDownWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => refuseForeign(event, event.url, 'navigate'));
  contents.on('will-redirect', (event) => refuseForeign(event, event.url, 'redirect'));

  contents.setWindowOpenHandler(({ url }) => {
    log.warn({ target: originForLog(url) }, 'open-window: denied');
    return { action: 'deny' };
  });
}

function refuseForeign(event: { preventDefault(): void }, url: string, what: string): void {
  if (isAppUrl(url)) return;

  event.preventDefault();
  log.warn({ target: originForLog(url) }, `${what}: refused, target is outside the app origin`);
}

/** True for the only permission the kiosk grants: camera and microphone, to its own page. */
export function isPermissionAllowed(
  permission: string,
  origin: string | null | undefined,
): boolean {
  return permission === 'media' && isAppUrl(origin);
}

/** Installs request and check handlers that grant `media` to the app origin and nothing else. */
export function applyPermissionPolicy(session: Session): void {
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    const origin = details.requestingUrl;
    const granted = isPermissionAllowed(permission, origin);
    if (!granted)
      log.warn({ permission, origin: originForLog(origin) }, 'permission: request denied');
    callback(granted);
  });

  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
    isPermissionAllowed(permission, requestingOrigin),
  );

  // USB, HID and serial devices belong to the core's drivers, never to the page.
  session.setDevicePermissionHandler(() => false);
}

/** Delays between reloads after successive crashes; the last repeats. */
export const crashReloadDelaysMs = [1_000, 2_000, 5_000, 15_000, 60_000] as const;

/** After this long without a crash the page counts as healthy: the next crash waits the least. */
export const crashResetAfterMs = 5 * 60_000;

/**
 * Reloads the page when its process dies or hangs. Reloads back off so a page that crashes on
 * load does not spin the CPU; a hung page is killed first, which brings it to the same path.
 */
export function keepRendererAlive(window: BrowserWindow): void {
  const contents = window.webContents;
  let crashes = 0;
  let lastCrashAt = 0;
  let pending: NodeJS.Timeout | undefined;

  contents.on('render-process-gone', (_event, details) => {
    if (window.isDestroyed() || pending) return;

    const now = Date.now();
    crashes = now - lastCrashAt > crashResetAfterMs ? 1 : crashes + 1;
    lastCrashAt = now;

    const delay = crashReloadDelaysMs[Math.min(crashes, crashReloadDelaysMs.length) - 1];
    log.error(
      { reason: details.reason, exitCode: details.exitCode, crashes, delay },
      'crash: renderer gone, reloading',
    );
    pending = setTimeout(() => {
      pending = undefined;
      if (!window.isDestroyed()) contents.reload();
    }, delay);
  });

  window.on('unresponsive', () => {
    log.error('hang: renderer unresponsive, restarting it');
    contents.forcefullyCrashRenderer();
  });

  window.on('closed', () => clearTimeout(pending));
}
