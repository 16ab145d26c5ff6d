/**
 * The logger of browser code (the kiosk page and the guard console). pino is a Node module, so
 * this writes to the console, which Electron, the browser host and the test runner pick up.
 * Callers pass codes, ids and states only: nothing personal is logged from a page.
 */
export interface PageLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

type Level = keyof PageLogger;

/** A logger whose lines start with the module name, like the core's child loggers. */
export function moduleLogger(module: string): PageLogger {
  const write = (level: Level) => (message: string, fields?: Record<string, unknown>) => {
    console[level](`[${module}] ${message}`, fields ?? {});
  };

  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
