/**
 * The page's logger. The renderer cannot reach pino (a Node module), so it writes to the console,
 * which Electron and the browser host forward to their own logs. Callers pass codes and ids only:
 * nothing personal is logged from the page.
 */
export interface RendererLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

type Level = keyof RendererLogger;

/** A logger whose lines start with the module name, like the core's child loggers. */
export function moduleLogger(module: string): RendererLogger {
  const write = (level: Level) => (message: string, fields?: Record<string, unknown>) => {
    console[level](`[${module}] ${message}`, fields ?? {});
  };

  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
