import { describe, expect, it } from 'vitest';
import { formatDuration, formatMoment, secondsLeft } from './format.js';

describe('secondsLeft', () => {
  it('rounds a partial second up and stops at zero', () => {
    expect(secondsLeft(10_000, 7_001)).toBe(3);
    expect(secondsLeft(10_000, 10_000)).toBe(0);
    expect(secondsLeft(10_000, 12_000)).toBe(0);
  });
});

describe('formatDuration', () => {
  it('writes minutes and seconds, and hours only when there are any', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(42_900)).toBe('0:42');
    expect(formatDuration(725_000)).toBe('12:05');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
  });

  it('counts a clock that ran backwards as zero', () => {
    expect(formatDuration(-5000)).toBe('0:00');
  });
});

describe('formatMoment', () => {
  const now = Date.UTC(2026, 0, 5, 8, 0, 0);

  it('shows only the time for a moment today', () => {
    expect(formatMoment(Date.UTC(2026, 0, 5, 7, 3), now, 'en', 'UTC')).toBe('07:03');
  });

  it('adds the date for an earlier day, in the guard’s language', () => {
    const yesterday = Date.UTC(2026, 0, 4, 22, 15);

    expect(formatMoment(yesterday, now, 'en', 'UTC')).toBe('Jan 4, 22:15');
    expect(formatMoment(yesterday, now, 'zh-CN', 'UTC')).toBe('1月4日 22:15');
  });

  it('decides "today" in the guard’s time zone', () => {
    const late = Date.UTC(2026, 0, 4, 20, 0);

    expect(formatMoment(late, now, 'en', 'Asia/Shanghai')).toBe('04:00');
  });
});
