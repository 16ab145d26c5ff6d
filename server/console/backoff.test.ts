import { describe, expect, it } from 'vitest';
import { reconnectDelay } from './backoff.js';

const options = { firstMs: 500, maxMs: 10_000 };

describe('reconnectDelay', () => {
  it('doubles the ceiling with each attempt until the maximum', () => {
    const highest = (attempt: number) => reconnectDelay(attempt, () => 0.999_999, options);

    expect([0, 1, 2, 3, 4, 5, 9].map(highest)).toEqual([
      500, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it('never waits less than half the ceiling, whatever the jitter draws', () => {
    expect(reconnectDelay(0, () => 0, options)).toBe(250);
    expect(reconnectDelay(3, () => 0, options)).toBe(2000);
    expect(reconnectDelay(50, () => 0, options)).toBe(5000);
  });

  it('spreads consoles that retry together over the upper half of the range', () => {
    const delays = [0.1, 0.4, 0.7].map((draw) => reconnectDelay(2, () => draw, options));

    expect(delays).toEqual([1100, 1400, 1700]);
  });

  it('treats a negative attempt as the first', () => {
    expect(reconnectDelay(-3, () => 0, options)).toBe(250);
  });
});
