/** Typed forms of vitest's asymmetric matchers, so tests can nest them in typed objects. */
import { expect } from 'vitest';

/** Matches any string that `pattern` matches. */
export function textMatching(pattern: RegExp): string {
  return expect.stringMatching(pattern) as string;
}
