/**
 * Finds and reads the kiosk's configuration at start-up: `--config FILE` wins over the
 * KIOSK_CONFIG environment variable; with neither, the defaults give a demo kiosk.
 */
import { dirname, resolve } from 'node:path';
import { KioskError } from '../common/errors.js';
import { loadConfigFile, parseConfig, type KioskConfig } from '../core/config.js';

/** The configuration to start with and where relative paths in it are taken from. */
export interface StartupConfig {
  config: KioskConfig;
  /** The config file's folder, or undefined for the built-in demo defaults. */
  configDir: string | undefined;
  /** The file it came from, or `defaults`, for the start-up log line. */
  source: string;
}

/** The configuration file named on the command line or in the environment, if any. */
export function configPathFrom(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const index = argv.indexOf('--config');
  if (index >= 0) {
    const value = argv[index + 1];
    if (!value || value.startsWith('--'))
      throw new KioskError('config_unreadable', '--config needs a file path');
    return value;
  }

  const inline = argv.find((arg) => arg.startsWith('--config='));
  if (inline) return inline.slice('--config='.length);

  return env.KIOSK_CONFIG || undefined;
}

/** Loads the start-up configuration; throws a KioskError naming every wrong field. */
export function loadStartupConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): StartupConfig {
  const path = configPathFrom(argv, env);
  if (!path)
    return {
      config: parseConfig({}, 'default configuration'),
      configDir: undefined,
      source: 'defaults',
    };

  const file = resolve(path);
  return { config: loadConfigFile(file), configDir: dirname(file), source: file };
}
