import { describe, expect, it } from 'vitest';
import { LoginThrottle, ThrottledError } from './auth.js';

const settings = { freeFailures: 5, baseDelaySeconds: 1, maxDelaySeconds: 60 };

function failTimes(throttle: LoginThrottle, keys: string[], times: number, at: number): void {
  for (let i = 0; i < times; i += 1) throttle.fail(keys, at);
}

function retryAfter(throttle: LoginThrottle, keys: string[], at: number): number {
  try {
    throttle.check(keys, at);
    return 0;
  } catch (error) {
    if (!(error instanceof ThrottledError)) throw error;
    return error.retryAfterSeconds;
  }
}

describe('login throttle', () => {
  it('lets the first four failures through without delay', () => {
    const throttle = new LoginThrottle(settings);
    failTimes(throttle, ['name:wang'], 4, 0);

    expect(retryAfter(throttle, ['name:wang'], 0)).toBe(0);
  });

  it('locks a name out after the fifth failure and doubles the lockout with each further one', () => {
    const throttle = new LoginThrottle(settings);
    failTimes(throttle, ['name:wang'], 5, 0);
    expect(retryAfter(throttle, ['name:wang'], 0)).toBe(1);

    throttle.fail(['name:wang'], 10_000);
    expect(retryAfter(throttle, ['name:wang'], 10_000)).toBe(2);

    throttle.fail(['name:wang'], 20_000);
    expect(retryAfter(throttle, ['name:wang'], 20_000)).toBe(4);
    expect(retryAfter(throttle, ['name:wang'], 24_000)).toBe(0);
  });

  it('never locks out for longer than the configured maximum', () => {
    const throttle = new LoginThrottle(settings);
    failTimes(throttle, ['address:10.0.0.9'], 40, 0);

    expect(retryAfter(throttle, ['address:10.0.0.9'], 0)).toBe(60);
  });

  it('refuses when any one of the keys is locked, and forgets a name after a success', () => {
    const throttle = new LoginThrottle(settings);
    failTimes(throttle, ['name:wang', 'address:10.0.0.9'], 5, 0);

    expect(retryAfter(throttle, ['name:li', 'address:10.0.0.9'], 0)).toBe(1);
    throttle.succeed('name:wang');
    expect(retryAfter(throttle, ['name:wang', 'address:10.0.0.10'], 0)).toBe(0);
  });
});
