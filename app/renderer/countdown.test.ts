import { describe, expect, it } from 'vitest';
import { secondsLeft } from './countdown.js';

describe('secondsLeft', () => {
  it('rounds a partial second up so the countdown never shows 0 early', () => {
    expect(secondsLeft(10_000, 7_001)).toBe(3);
    expect(secondsLeft(10_000, 9_999)).toBe(1);
  });

  it('shows 0 at and after the deadline', () => {
    expect(secondsLeft(10_000, 10_000)).toBe(0);
    expect(secondsLeft(10_000, 12_500)).toBe(0);
  });
});
