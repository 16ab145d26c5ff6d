/**
 * Runs the intercom server: `node dist/server/cli.js [--config FILE]`, and creates the first
 * admin: `node dist/server/cli.js admin create NAME [--password-file FILE] [--force]`, the
 * password read from the file, asked twice without echo on a terminal, or else the first line of
 * piped stdin. When listening, stdout carries exactly
 * one line, `INTERCOM_URL=<url>`, for scripts and tests; logs go to stderr.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { KioskError } from '../app/common/errors.js';
import { moduleLogger } from '../app/core/log.js';
import { GuardNameSchema, startServer } from './app.js';
import { Authenticator } from './auth.js';
import { loadServerConfigFile, parseServerConfig, type ServerConfig } from './config.js';
import { promptNewPassword } from './password-prompt.js';
import { openServerStore, type ServerStore } from './store.js';
import { closeOnSignals } from '../app/core/shutdown.js';

const log = moduleLogger('intercom-cli');

interface GlobalOptions {
  config?: string;
}

interface CreateOptions {
  passwordFile?: string;
  force?: boolean;
}

interface ConfigFile {
  config: ServerConfig;
  /** The config file's folder: relative paths in it (dataDir, the pass key) start here. */
  baseDir: string;
  storeFile: string;
}

/** The configuration and the store file it names. */
function readConfig(file: string | undefined): ConfigFile {
  const config = file ? loadServerConfigFile(file) : parseServerConfig({});
  const baseDir = file ? dirname(resolve(file)) : process.cwd();

  return { config, baseDir, storeFile: join(resolve(baseDir, config.dataDir), 'intercom.db') };
}

function openStoreFor(file: string | undefined): Omit<ConfigFile, 'storeFile'> & {
  store: ServerStore;
} {
  const { config, baseDir, storeFile } = readConfig(file);
  return { config, baseDir, store: openServerStore({ file: storeFile, key: config.storeKey }) };
}

async function serve(options: GlobalOptions): Promise<void> {
  const { config, baseDir, store } = openStoreFor(options.config);
  if (!store.hasAdmin()) {
    process.stderr.write('No admin account yet: create one with `admin create NAME`.\n');
  }

  const server = await startServer({ store, config, baseDir }).catch((error: unknown) => {
    store.close();
    throw listenFailure(error, config);
  });
  process.stdout.write(`INTERCOM_URL=${server.url}\n`);
  // The URL above is then loopback; the operator must still learn that the network can reach it.
  if (server.allInterfaces) {
    const where = `Listening on all interfaces (host ${config.host})`;
    process.stderr.write(`${where}: other machines reach it by this machine's own address.\n`);
  }
  closeOnSignals(log, [() => server.close(), () => store.close()]);
}

/** A port taken or not ours to use is the operator's to fix: one line naming it, no stack. */
function listenFailure(error: unknown, config: ServerConfig): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `port ${config.port} on ${config.host}`;
  if (code === 'EADDRINUSE')
    return new KioskError('port_busy', `${where} is in use: stop what holds it or set "port"`);
  if (code === 'EACCES')
    return new KioskError('port_busy', `${where} needs privileges: choose a port above 1023`);
  if (code === 'EADDRNOTAVAIL')
    return new KioskError('config_invalid', `${where}: this machine has no such address`);

  return error;
}

async function createAdmin(name: string, options: CreateOptions & GlobalOptions): Promise<void> {
  const checked = GuardNameSchema.safeParse(name);
  if (!checked.success) {
    const rule = checked.error.issues[0]?.message ?? 'not a valid name';
    throw new KioskError('bad_payload', `bad name "${name}": use 1 to 64 ${rule}`);
  }

  const { config, store } = openStoreFor(options.config);
  try {
    if (store.hasAdmin() && !options.force) {
      throw new KioskError('conflict', 'an admin exists already; pass --force to add another');
    }

    const password = await readPassword(name, options.passwordFile);
    if (password.length < 10)
      throw new KioskError('bad_payload', 'the password needs at least 10 characters');

    const auth = new Authenticator({ store, config, now: Date.now });
    const guard = await auth.createGuard(name, password, 'admin', 'command line');
    process.stdout.write(`admin created (id ${guard.id})\n`);
  } finally {
    store.close();
  }
}

/** The first line of the password file; typed twice on a terminal; else the first piped line. */
async function readPassword(name: string, file: string | undefined): Promise<string> {
  if (file) return firstLine(await readFile(file, 'utf8'));
  if (process.stdin.isTTY)
    return promptNewPassword(name, { input: process.stdin, output: process.stderr });

  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  throw new KioskError('bad_payload', 'no password on stdin');
}

function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? '';
}

function program(): Command {
  const root = new Command('intercom')
    .description("The gate kiosks' intercom server: guard logins, kiosk connections, calls.")
    .option('--config <file>', 'server configuration (JSON); without it, defaults on 127.0.0.1')
    .action((options: GlobalOptions) => serve(options));

  root
    .command('admin')
    .description('manage admin accounts')
    .command('create <name>')
    .description('create an admin account; the password comes from --password-file or stdin')
    .option('--password-file <file>', 'file whose first line is the password')
    .option('--force', 'create it even though an admin exists')
    .action((name: string, options: CreateOptions, command: Command) =>
      createAdmin(name, { ...command.optsWithGlobals<GlobalOptions>(), ...options }),
    );
  return root;
}

program()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    // A refusal (bad config, admin exists) is the user's to fix; only a fault needs the stack.
    if (error instanceof KioskError)
      process.stderr.write(`intercom: ${error.code}: ${error.message}\n`);
    else log.error({ err: error }, 'cli: failed');
    process.exit(1);
  });
