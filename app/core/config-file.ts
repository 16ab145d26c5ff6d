/**
 * Reading a JSON configuration file against a schema, shared by the kiosk and the intercom
 * server. A bad file is refused as a whole with every wrong field named; nothing half-applied
 * ever runs.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { KioskError } from '../common/errors.js';

/** Validates `raw` against `schema`; the error lists every wrong field by its path. */
export function parseWithSchema<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  source: string,
): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;

  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(root)'}: ${problemText(issue)}`,
  );
  throw new KioskError('config_invalid', `${source} is invalid:\n  ${problems.join('\n  ')}`);
}

/** The issue in a technician's words: a field left out is "required", not "received undefined". */
function problemText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
    return `is required (${issue.expected})`;
  }

  return issue.message;
}

/** Reads a JSON file and validates it with `parse`; unreadable and non-JSON files get own codes. */
export function loadJsonConfig<T>(path: string, parse: (raw: unknown, source: string) => T): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new KioskError(
      'config_unreadable',
      `cannot read configuration file ${resolve(path)} (${reason})`,
      { cause },
    );
  }

  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new KioskError(
      'config_invalid',
      `${path} is not valid JSON: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }

  return parse(raw, path);
}
