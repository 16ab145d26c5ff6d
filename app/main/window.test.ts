import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  app,
  BrowserWindow,
  Menu,
  resetFakeElectron,
  type FakeSession,
} from './testing/fake-electron.js';
import {
  crashReloadDelaysMs,
  crashResetAfterMs,
  createKioskWindow,
  hardenApp,
  isPermissionAllowed,
  kioskWindowOptions,
} from './window.js';

vi.mock('electron', () => import('./testing/fake-electron.js'));

function openWindow(devTools = false): BrowserWindow {
  createKioskWindow({ preloadPath: '/app/preload/index.cjs', devTools });
  const window = BrowserWindow.created.at(-1);
  if (!window) throw new Error('no window was created');
  return window;
}

function navigationEvent(url: string): { url: string; preventDefault: ReturnType<typeof vi.fn> } {
  return { url, preventDefault: vi.fn() };
}

function requestPermission(
  session: FakeSession,
  permission: string,
  requestingUrl: string,
): boolean {
  const callback = vi.fn();
  const handler = session.permissionRequestHandler as unknown as (...args: unknown[]) => void;
  handler({}, permission, callback, { requestingUrl, isMainFrame: true });
  expect(callback).toHaveBeenCalledOnce();
  return callback.mock.calls[0]?.[0] as boolean;
}

function checkPermission(session: FakeSession, permission: string, origin: string): boolean {
  const handler = session.permissionCheckHandler as unknown as (...args: unknown[]) => boolean;
  return handler({}, permission, origin, { isMainFrame: true });
}

beforeEach(() => resetFakeElectron());

describe('the kiosk window', () => {
  it('runs the page sandboxed, isolated and without Node, in full-screen kiosk mode', () => {
    const window = openWindow();
    const preferences = window.options.webPreferences as Record<string, unknown>;

    expect(window.options).toMatchObject({ kiosk: true, fullscreen: true, autoHideMenuBar: true });
    expect(preferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webSecurity: true,
      devTools: false,
      preload: '/app/preload/index.cjs',
    });
  });

  it('allows developer tools only when asked to', () => {
    expect(kioskWindowOptions('/p.cjs', true).webPreferences?.devTools).toBe(true);
    expect(kioskWindowOptions('/p.cjs', false).webPreferences?.devTools).toBe(false);
  });

  it('loads the entry page from the app scheme', () => {
    const window = openWindow();

    expect(window.loadURL).toHaveBeenCalledWith('app://kiosk/index.html');
  });

  it('refuses navigation to another origin and lets in-app navigation through', () => {
    const contents = openWindow().webContents;
    const away = navigationEvent('https://example.com/phish');
    const fileUrl = navigationEvent('file:///etc/passwd');
    const inside = navigationEvent('app://kiosk/index.html#retry');

    contents.emit('will-navigate', away);
    contents.emit('will-navigate', fileUrl);
    contents.emit('will-navigate', inside);

    expect(away.preventDefault).toHaveBeenCalled();
    expect(fileUrl.preventDefault).toHaveBeenCalled();
    expect(inside.preventDefault).not.toHaveBeenCalled();
  });

  it('refuses a redirect that leaves the app origin', () => {
    const contents = openWindow().webContents;
    const redirect = navigationEvent('http://127.0.0.1:8080/');

    contents.emit('will-redirect', redirect);

    expect(redirect.preventDefault).toHaveBeenCalled();
  });

  it('denies every new window, even one on its own origin', () => {
    const contents = openWindow().webContents;

    expect(contents.windowOpenHandler?.({ url: 'https://example.com/' })).toEqual({
      action: 'deny',
    });
    expect(contents.windowOpenHandler?.({ url: 'app://kiosk/index.html' })).toEqual({
      action: 'deny',
    });
  });
});

describe('the permission policy', () => {
  it('grants camera and microphone to the app origin', () => {
    const session = openWindow().webContents.session;

    expect(requestPermission(session, 'media', 'app://kiosk/index.html')).toBe(true);
    expect(checkPermission(session, 'media', 'app://kiosk')).toBe(true);
  });

  it('refuses camera and microphone to any other origin', () => {
    const session = openWindow().webContents.session;

    expect(requestPermission(session, 'media', 'https://example.com/')).toBe(false);
    expect(requestPermission(session, 'media', 'app://other/index.html')).toBe(false);
    expect(checkPermission(session, 'media', 'https://example.com')).toBe(false);
    expect(checkPermission(session, 'media', 'null')).toBe(false);
  });

  it('refuses geolocation, notifications and everything else even to the app origin', () => {
    const session = openWindow().webContents.session;

    for (const permission of [
      'geolocation',
      'notifications',
      'clipboard-read',
      'openExternal',
      'display-capture',
    ]) {
      expect(requestPermission(session, permission, 'app://kiosk/index.html')).toBe(false);
      expect(checkPermission(session, permission, 'app://kiosk')).toBe(false);
    }
  });

  it('gives the page no USB, HID or serial device', () => {
    const session = openWindow().webContents.session;
    const handler = session.devicePermissionHandler as unknown as (details: unknown) => boolean;

    expect(handler({ deviceType: 'serial', origin: 'app://kiosk' })).toBe(false);
  });

  it('treats a spoofed look-alike origin as foreign', () => {
    expect(isPermissionAllowed('media', 'app://kiosk.example.com')).toBe(false);
    expect(isPermissionAllowed('media', 'app://kiosk@evil/')).toBe(false);
    expect(isPermissionAllowed('media', 'app://kiosk:8080')).toBe(false);
    expect(isPermissionAllowed('media', undefined)).toBe(false);
  });
});

describe('renderer recovery', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('reloads the page after its process crashes', () => {
    const contents = openWindow().webContents;

    contents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 139 });
    expect(contents.reload).not.toHaveBeenCalled();

    vi.advanceTimersByTime(crashReloadDelaysMs[0]);
    expect(contents.reload).toHaveBeenCalledOnce();
  });

  it('waits longer after each crash in a row so a crash loop does not spin', () => {
    const contents = openWindow().webContents;

    for (const [index, delay] of crashReloadDelaysMs.slice(0, 3).entries()) {
      contents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 1 });
      vi.advanceTimersByTime(delay - 1);
      expect(contents.reload).toHaveBeenCalledTimes(index);

      vi.advanceTimersByTime(1);
      expect(contents.reload).toHaveBeenCalledTimes(index + 1);
    }
  });

  it('starts again from the shortest delay after the page has been healthy for a while', () => {
    const contents = openWindow().webContents;
    contents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 1 });
    vi.advanceTimersByTime(crashReloadDelaysMs[0]);
    contents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 1 });
    vi.advanceTimersByTime(crashReloadDelaysMs[1]);

    vi.advanceTimersByTime(crashResetAfterMs + 1);
    contents.emit('render-process-gone', {}, { reason: 'oom', exitCode: 1 });
    vi.advanceTimersByTime(crashReloadDelaysMs[0]);

    expect(contents.reload).toHaveBeenCalledTimes(3);
  });

  it('kills a hung renderer so the crash path reloads it', () => {
    const window = openWindow();

    window.emit('unresponsive');

    expect(window.webContents.forcefullyCrashRenderer).toHaveBeenCalledOnce();
  });

  it('does not reload a window that has been closed', () => {
    const window = openWindow();
    window.webContents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 1 });

    window.destroyed = true;
    window.emit('closed');
    vi.advanceTimersByTime(crashReloadDelaysMs.at(-1) ?? 0);

    expect(window.webContents.reload).not.toHaveBeenCalled();
  });
});

describe('app-wide hardening', () => {
  it('removes the application menu and its reload and developer-tools shortcuts', () => {
    hardenApp();

    expect(Menu.setApplicationMenu).toHaveBeenCalledWith(null);
  });

  it('locks down web contents created anywhere in the app', async () => {
    const { FakeWebContents } = await import('./testing/fake-electron.js');
    const contents = new FakeWebContents();
    const attach = { preventDefault: vi.fn() };
    const away = navigationEvent('https://example.com/');
    hardenApp();

    app.emit('web-contents-created', {}, contents);
    contents.emit('will-attach-webview', attach);
    contents.emit('will-navigate', away);

    expect(attach.preventDefault).toHaveBeenCalled();
    expect(away.preventDefault).toHaveBeenCalled();
    expect(contents.windowOpenHandler?.({ url: 'https://example.com/' })).toEqual({
      action: 'deny',
    });
  });
});
