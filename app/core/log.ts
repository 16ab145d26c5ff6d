import pino, { type Logger } from 'pino';

/**
 * Fields that may carry personal data or secrets. pino replaces them before a line is written,
 * wherever they sit in the logged object, so a careless call cannot leak them.
 */
const redactedPaths = [
  'idNumber',
  '*.idNumber',
  'name',
  '*.name',
  'visitorName',
  '*.visitorName',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'key',
  '*.key',
  'privateKey',
  '*.privateKey',
  'photo',
  '*.photo',
  'jpeg',
  '*.jpeg',
  'rawText',
  '*.rawText',
];

const root: Logger = pino(
  {
    level: process.env.KIOSK_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'),
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    // Logs go to stderr: command-line tools and the browser host print their results on stdout.
  },
  pino.destination({ dest: 2, sync: true }),
);

/** One child logger per module, named so a technician can filter a log by part of the kiosk. */
export function moduleLogger(module: string): Logger {
  return root.child({ module });
}

export type { Logger };
