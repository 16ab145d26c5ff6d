/**
 * Runs the kiosk in plain Node behind the browser host:
 * `node dist/app/host/cli.js [--config FILE] [--port N] [--open]`.
 * Stdout carries exactly one line, `KIOSK_HOST_URL=<url>`, for scripts and tests; logs go to stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfigFile, parseConfig, type KioskConfig } from '../core/config.js';
import { createKiosk } from '../core/kiosk.js';
import { moduleLogger } from '../core/log.js';
import { startHost } from './server.js';
import { closeOnSignals } from '../core/shutdown.js';

const log = moduleLogger('host-cli');

interface CliOptions {
  config?: string;
  port: number;
  open?: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));

/** dist/renderer beside the built host, whether this runs built (dist/app/host) or from source. */
const rendererDir =
  basename(resolve(here, '../..')) === 'dist'
    ? resolve(here, '../../renderer')
    : resolve(here, '../../dist/renderer');

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new InvalidArgumentError('a port is 0 to 65535');

  return port;
}

function parseArguments(argv: string[]): CliOptions {
  return new Command('kiosk-host')
    .description(
      'Run the gate kiosk in plain Node and serve its screen to a browser on this machine.',
    )
    .option(
      '--config <file>',
      'kiosk configuration (JSON); without it, a demo kiosk on simulated devices',
    )
    .option('--port <n>', 'loopback port to listen on; 0 picks a free one', parsePort, 0)
    .option('--open', 'open the kiosk screen in Chromium (or $KIOSK_BROWSER) in kiosk mode')
    .parse(argv)
    .opts<CliOptions>();
}

/** The configuration and the folder its relative paths start from; exits 1 on a bad file. */
function readConfig(file: string | undefined): { config: KioskConfig; configDir: string } {
  try {
    if (!file) return { config: parseConfig({}), configDir: process.cwd() };

    return { config: loadConfigFile(file), configDir: dirname(resolve(file)) };
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}

/** Opens the screen in a kiosk-mode browser, or says where to open it when there is none. */
function openBrowser(url: string, profileDir: string): ChildProcess | null {
  const browser = process.env.KIOSK_BROWSER ?? '/usr/bin/chromium';
  if (!existsSync(browser)) {
    process.stderr.write(
      `No browser at ${browser} (set KIOSK_BROWSER): open ${url} in a browser on this machine.\n`,
    );
    return null;
  }

  const args = [
    '--kiosk',
    `--app=${url}`,
    `--user-data-dir=${profileDir}`,
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--auto-accept-camera-and-microphone-capture',
    // A call started from the hardware button must play the guard's voice without a touch first,
    // as Electron's kiosk window allows (autoplayPolicy in app/main/window.ts).
    '--autoplay-policy=no-user-gesture-required',
  ];
  // Chromium refuses to start as root with its sandbox; a kiosk should not run as root at all.
  if (process.getuid?.() === 0) {
    log.warn(
      'open: running as root, so Chromium starts without its sandbox; run the kiosk as a normal user',
    );
    args.push('--no-sandbox');
  }

  const child = spawn(browser, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  child.on('error', (error) => log.error({ err: error, browser }, 'open: browser failed to start'));
  child.on('exit', (code, signal) => log.info({ code, signal }, 'open: browser exited'));
  log.info({ browser, pid: child.pid }, 'open: browser started');
  return child;
}

async function main(argv: string[]): Promise<void> {
  const options = parseArguments(argv);
  const { config, configDir } = readConfig(options.config);

  const kiosk = await createKiosk(config, { configDir });
  const host = await startHost({ kiosk, port: options.port, rendererDir });
  let browser: ChildProcess | null = null;
  // Listening for signals before saying the host is ready: a stop right after that is orderly too.
  // The kiosk closes last: its close drives the relay off.
  closeOnSignals(log, [
    () => {
      if (browser && browser.exitCode === null) browser.kill('SIGTERM');
    },
    () => host.close(),
    () => kiosk.close(),
  ]);
  process.stdout.write(`KIOSK_HOST_URL=${host.url}\n`);

  if (options.open)
    browser = openBrowser(host.url, join(resolve(configDir, config.dataDir), 'browser-profile'));
  else process.stderr.write(`Open ${host.url} in a browser on this machine (or pass --open).\n`);
}

main(process.argv).catch((error: unknown) => {
  process.stderr.write(`kiosk host failed to start: ${(error as Error).message}\n`);
  log.error({ err: error }, 'start: failed');
  process.exit(1);
});
