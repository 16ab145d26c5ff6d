import { describe, expect, it } from 'vitest';
import { createThrottle } from './throttle.js';

describe('createThrottle', () => {
  it('lets the first call through and holds back calls within the interval', () => {
    let clock = 1000;
    const allow = createThrottle(2000, () => clock);

    expect(allow()).toBe(true);
    clock += 1999;
    expect(allow()).toBe(false);
    clock += 1;
    expect(allow()).toBe(true);
  });

  it('measures the interval from the last call it let through', () => {
    let clock = 0;
    const allow = createThrottle(100, () => clock);

    allow();
    clock = 50;
    allow();
    clock = 120;
    expect(allow()).toBe(true);
    clock = 180;
    expect(allow()).toBe(false);
  });
});
