/**
 * The main process's life: start-up that fails loudly and early, one instance per machine, and
 * a shutdown that closes the core (store, drivers) before the process ends.
 */
import { app } from 'electron';
import { KioskError } from '../common/errors.js';
import { moduleLogger } from '../core/log.js';
import type { KioskService } from '../contract/api.js';
import { loadStartupConfig, type StartupConfig } from './config-source.js';

const log = moduleLogger('main.lifecycle');

/** What main needs of the core: the contract's service and a way to close it. */
export interface ClosableKiosk extends KioskService {
  close(): Promise<void>;
}

/**
 * Loads the configuration or ends the process with exit code 1 and one clear log line. No
 * dialog: an unattended kiosk has nobody to click it away, and its supervisor reads the log.
 */
export function loadConfigOrExit(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): StartupConfig | undefined {
  try {
    const startup = loadStartupConfig(argv, env);
    log.info(
      { source: startup.source, site: startup.config.site, gate: startup.config.gate },
      'config: loaded',
    );
    return startup;
  } catch (error) {
    const code = error instanceof KioskError ? error.code : 'internal';
    log.fatal({ code }, `config: ${(error as Error).message}`);
    app.exit(1);
    return undefined;
  }
}

/**
 * Quits when another kiosk process already runs: two would fight over the relay's serial port.
 * Returns false when this process is the one that must go.
 */
export function ensureSingleInstance(): boolean {
  if (app.requestSingleInstanceLock()) return true;

  log.error('start: another kiosk process is running, quitting');
  app.exit(0);
  return false;
}

/**
 * Runs `task` once Electron is ready; a failure ends the process with exit code 1. Not a
 * top-level await on purpose: Electron emits `ready` only after the ESM entry module has
 * finished evaluating, so awaiting it there would hang the app.
 */
export function onReady(task: () => Promise<void>): void {
  app
    .whenReady()
    .then(task)
    .catch((error: unknown) => {
      const code = error instanceof KioskError ? error.code : 'internal';
      log.fatal({ code, err: error }, 'start: the kiosk could not start');
      app.exit(1);
    });
}

/** Starts the core, or ends the process with exit code 1 when it cannot start. */
export async function startOrExit<K extends ClosableKiosk>(
  start: () => Promise<K>,
): Promise<K | undefined> {
  try {
    return await start();
  } catch (error) {
    const code = error instanceof KioskError ? error.code : 'internal';
    log.fatal({ code, err: error }, 'start: the core could not start');
    app.exit(1);
    return undefined;
  }
}

/**
 * Closes the core once when the app quits, holding the quit until it is done so the store is
 * closed cleanly. Closing the last window or a SIGTERM from the supervisor both quit. Returns a
 * function that removes the SIGTERM listener again.
 */
export function closeOnQuit(kiosk: ClosableKiosk, unbind: () => void): () => void {
  let closing = false;
  const quitOnSignal = (): void => app.quit();

  app.on('window-all-closed', () => app.quit());
  process.once('SIGTERM', quitOnSignal);

  app.on('before-quit', (event) => {
    if (closing) return;

    closing = true;
    event.preventDefault();
    unbind();
    kiosk
      .close()
      .catch((error: unknown) => log.error({ err: error }, 'quit: closing the core failed'))
      .finally(() => app.exit(0));
  });

  return () => {
    process.off('SIGTERM', quitOnSignal);
  };
}
