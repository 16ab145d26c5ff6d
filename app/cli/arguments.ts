/**
 * Parsers for the command-line options technicians type. Each rejects a bad value with a message
 * that says what was expected, which commander prints next to the option's name.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

const isoDateTime =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Parses an ISO 8601 date and time to epoch milliseconds. A date alone is refused because it
 * would silently mean midnight UTC; a time without an offset is this computer's local time.
 */
export function isoTime(value: string): number {
  const match = isoDateTime.exec(value.trim());
  if (!match) {
    throw new InvalidArgumentError(
      'expected a date and time such as 2025-06-01T18:00 or 2025-06-01T18:00+08:00',
    );
  }

  const [year, month, day] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
  // Date.parse rolls 30 February over into March; a technician's typo must not become a valid pass.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new InvalidArgumentError(`${year}-${match[2]}-${match[3]} is not a calendar date`);
  }

  const epochMs = Date.parse(value.trim().replace(' ', 'T'));
  if (Number.isNaN(epochMs)) throw new InvalidArgumentError(`${value} is not a valid time of day`);
  return epochMs;
}

/** Like `isoTime`, but also accepts `now`. */
export function isoTimeOrNow(value: string): number {
  return value.trim().toLowerCase() === 'now' ? Date.now() : isoTime(value);
}

/** Parses a whole number of at least 1. */
export function positiveInteger(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < 1) {
    throw new InvalidArgumentError('expected a whole number of at least 1');
  }
  return number;
}

/** Parses a whole number of 0 or more. */
export function nonNegativeInteger(value: string): number {
  return value.trim() === '0' ? 0 : positiveInteger(value);
}

/** Parses a positive number of hours, fractions allowed (1.5 is ninety minutes). */
export function positiveHours(value: string): number {
  const hours = Number(value);
  if (value.trim() === '' || !Number.isFinite(hours) || hours <= 0 || hours > 24 * 366) {
    throw new InvalidArgumentError('expected a number of hours above 0 and at most a year');
  }
  return hours;
}

/** Collects a repeatable option into a list. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Reads and parses a JSON file, or returns why it could not. */
export function readJsonFile(
  path: string,
): { ok: true; value: unknown } | { ok: false; problem: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    return {
      ok: false,
      problem: `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`,
    };
  }

  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, problem: `${path} is not JSON` };
  }
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
