/**
 * The Electron main process: a list of setup calls. Everything that decides lives in the core;
 * this file only loads the configuration, builds the core and wires the window to it.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app } from 'electron';
import { createKiosk } from '../core/kiosk.js';
import type { StartupConfig } from './config-source.js';
import { bindIpc } from './ipc.js';
import {
  closeOnQuit,
  ensureSingleInstance,
  loadConfigOrExit,
  onReady,
  startOrExit,
} from './lifecycle.js';
import { registerAppScheme, serveRenderer } from './protocol.js';
import { createKioskWindow, hardenApp } from './window.js';

const here = dirname(fileURLToPath(import.meta.url));
const preloadPath = join(here, '../preload/index.cjs');
const rendererDir = join(here, '../../renderer');

async function start(startup: StartupConfig): Promise<void> {
  const configDir = startup.configDir ?? app.getPath('userData');
  const kiosk = await startOrExit(() => createKiosk(startup.config, { configDir }));
  if (!kiosk) return;

  serveRenderer(rendererDir);
  const window = createKioskWindow({ preloadPath, devTools: process.env.KIOSK_DEV === '1' });
  closeOnQuit(kiosk, bindIpc(kiosk, window.webContents));
}

// Everything up to `onReady` runs before Electron is ready: the scheme must be registered then.
registerAppScheme();
hardenApp();
const startup = ensureSingleInstance() ? loadConfigOrExit(process.argv, process.env) : undefined;
if (startup) onReady(() => start(startup));
