/**
 * A stand-in for the `electron` module in main-process unit tests: just enough of BrowserWindow,
 * webContents, session, ipcMain, protocol, app and Menu to observe what our code asks of them.
 * Tests load it with `vi.mock('electron', () => import('./testing/fake-electron.js'))`.
 */
import { EventEmitter } from 'node:events';
import { vi } from 'vitest';

type Handler = (...args: never[]) => unknown;

/** A web frame as IPC events report it. */
export interface FakeFrame {
  url: string;
  parent: FakeFrame | null;
}

let nextId = 1;

/** Records the permission and device handlers the code installs. */
export class FakeSession {
  permissionRequestHandler: Handler | null = null;
  permissionCheckHandler: Handler | null = null;
  devicePermissionHandler: Handler | null = null;

  setPermissionRequestHandler(handler: Handler | null): void {
    this.permissionRequestHandler = handler;
  }

  setPermissionCheckHandler(handler: Handler | null): void {
    this.permissionCheckHandler = handler;
  }

  setDevicePermissionHandler(handler: Handler | null): void {
    this.devicePermissionHandler = handler;
  }
}

/** An event emitter with the webContents methods main uses, each a spy. */
export class FakeWebContents extends EventEmitter {
  readonly id = nextId++;
  readonly session = new FakeSession();
  readonly mainFrame: FakeFrame = { url: 'app://kiosk/index.html', parent: null };
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  destroyed = false;
  readonly send = vi.fn();
  readonly reload = vi.fn();
  readonly forcefullyCrashRenderer = vi.fn();

  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }
}

/** A window that keeps the options it was built with. */
export class BrowserWindow extends EventEmitter {
  static readonly created: BrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  readonly loadURL = vi.fn(() => Promise.resolve());
  readonly show = vi.fn();
  destroyed = false;

  constructor(readonly options: Record<string, unknown>) {
    super();
    BrowserWindow.created.push(this);
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }
}

/** Handlers registered with `ipcMain.handle`, by channel. */
export const ipcHandlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();

export const ipcMain = {
  handle: vi.fn((channel: string, handler: (event: unknown, ...args: unknown[]) => unknown) => {
    if (ipcHandlers.has(channel)) throw new Error(`second handler for ${channel}`);
    ipcHandlers.set(channel, handler);
  }),
  removeHandler: vi.fn((channel: string) => {
    ipcHandlers.delete(channel);
  }),
};

export const protocol = {
  registerSchemesAsPrivileged: vi.fn(),
  handle: vi.fn(),
};

class FakeApp extends EventEmitter {
  readonly exit = vi.fn();
  readonly quit = vi.fn();
  readonly requestSingleInstanceLock = vi.fn(() => true);
  readonly whenReady = vi.fn(() => Promise.resolve());
  readonly getPath = vi.fn(() => '/tmp/kiosk-user-data');
}

export const app = new FakeApp();

export const Menu = { setApplicationMenu: vi.fn() };

/** Clears every record between tests. */
export function resetFakeElectron(): void {
  BrowserWindow.created.length = 0;
  ipcHandlers.clear();
  app.removeAllListeners();
  vi.clearAllMocks();
}
