import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { KioskError } from '../common/errors.js';
import {
  closeOnQuit,
  ensureSingleInstance,
  loadConfigOrExit,
  onReady,
  startOrExit,
  type ClosableKiosk,
} from './lifecycle.js';
import { app, resetFakeElectron } from './testing/fake-electron.js';

vi.mock('electron', () => import('./testing/fake-electron.js'));

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiosk-lifecycle-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

let releaseSignal: () => void = () => undefined;

beforeEach(() => resetFakeElectron());
afterEach(() => releaseSignal());

function fakeKiosk(close: () => Promise<void>): ClosableKiosk {
  return {
    handle: () => Promise.reject(new Error('not used')),
    subscribe: () => () => undefined,
    close,
  };
}

describe('start-up', () => {
  it('exits with code 1 and no window when the configuration file is bad', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "gate": ');

    const startup = loadConfigOrExit(['electron', '.', '--config', bad], {});

    expect(startup).toBeUndefined();
    expect(app.exit).toHaveBeenCalledWith(1);
  });

  it('starts on the demo defaults without exiting when no file is named', () => {
    const startup = loadConfigOrExit(['electron', '.'], {});

    expect(startup?.config.relay.kind).toBe('simulator');
    expect(app.exit).not.toHaveBeenCalled();
  });

  it('exits with code 1 when the core cannot start', async () => {
    const kiosk = await startOrExit(() =>
      Promise.reject(new KioskError('store_failed', 'wrong store key')),
    );

    expect(kiosk).toBeUndefined();
    expect(app.exit).toHaveBeenCalledWith(1);
  });

  it('leaves when another kiosk process holds the single-instance lock', () => {
    app.requestSingleInstanceLock.mockReturnValueOnce(false);

    expect(ensureSingleInstance()).toBe(false);
    expect(app.exit).toHaveBeenCalledWith(0);
  });
});

describe('shutdown', () => {
  it('holds the quit until the core is closed, then exits', async () => {
    let finishClose: () => void = () => undefined;
    const close = vi.fn(() => new Promise<void>((resolve) => (finishClose = resolve)));
    const unbind = vi.fn();
    const quitEvent = { preventDefault: vi.fn() };
    releaseSignal = closeOnQuit(fakeKiosk(close), unbind);

    app.emit('before-quit', quitEvent);
    expect(quitEvent.preventDefault).toHaveBeenCalled();
    expect(unbind).toHaveBeenCalledOnce();
    expect(app.exit).not.toHaveBeenCalled();

    const exited = new Promise((resolve) => app.exit.mockImplementationOnce(resolve));
    finishClose();

    await expect(exited).resolves.toBe(0);
    expect(close).toHaveBeenCalledOnce();
  });

  it('still exits when closing the core fails', async () => {
    const exited = new Promise((resolve) => app.exit.mockImplementationOnce(resolve));
    releaseSignal = closeOnQuit(
      fakeKiosk(() => Promise.reject(new Error('disk gone'))),
      () => undefined,
    );

    app.emit('before-quit', { preventDefault: vi.fn() });

    await expect(exited).resolves.toBe(0);
  });

  it('quits when the last window closes', () => {
    releaseSignal = closeOnQuit(
      fakeKiosk(() => Promise.resolve()),
      () => undefined,
    );

    app.emit('window-all-closed');

    expect(app.quit).toHaveBeenCalled();
  });

  it('quits on SIGTERM from the supervisor', () => {
    releaseSignal = closeOnQuit(
      fakeKiosk(() => Promise.resolve()),
      () => undefined,
    );

    process.emit('SIGTERM', 'SIGTERM');

    expect(app.quit).toHaveBeenCalledOnce();
  });
});

describe('waiting for Electron', () => {
  it('runs the start-up task once the app is ready', async () => {
    const task = vi.fn(() => Promise.resolve());
    const ran = new Promise<void>((resolve) =>
      task.mockImplementationOnce(() => Promise.resolve(resolve())),
    );

    onReady(task);

    await ran;
    expect(app.whenReady).toHaveBeenCalledOnce();
    expect(app.exit).not.toHaveBeenCalled();
  });

  it('exits with code 1 when the start-up task fails', async () => {
    const exited = new Promise((resolve) => app.exit.mockImplementationOnce(resolve));

    onReady(() => Promise.reject(new Error('no display')));

    await expect(exited).resolves.toBe(1);
  });
});
