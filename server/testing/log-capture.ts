/**
 * A stand-in for app/core/log.js in tests that check what is logged: every module's lines go to
 * one list in memory, at debug level and without redaction. Tests load
 * it with `vi.mock('../app/core/log.js', () => import('./testing/log-capture.js'))` (the path as
 * seen from the test) and read `loggedLines()`.
 */
import pino, { type Logger } from 'pino';

/** One logged line as pino wrote it: level name, module, message and the logged fields. */
export type LogLine = { level: string; module: string; msg: string } & Record<string, unknown>;

const lines: LogLine[] = [];

const root: Logger = pino(
  {
    level: 'debug',
    base: undefined,
    timestamp: false,
    formatters: { level: (label) => ({ level: label }) },
  },
  { write: (text: string) => lines.push(JSON.parse(text) as LogLine) },
);

/** The same shape as the real moduleLogger. */
export function moduleLogger(module: string): Logger {
  return root.child({ module });
}

/** The lines logged since the last clear, optionally only those `where` accepts. */
export function loggedLines(where: (line: LogLine) => boolean = () => true): LogLine[] {
  return lines.filter(where);
}

/** Forgets every line logged so far; call it in beforeEach. */
export function clearLoggedLines(): void {
  lines.length = 0;
}

export type { Logger };
