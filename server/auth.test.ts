import { describe, expect, it } from 'vitest';
import { LoginThrottle, ThrottledError } from './auth.js';

const settings = {
  freeFailures: 5,
  freeFailuresPerAddress: 20,
  baseDelaySeconds: 1,
  maxDelaySeconds: 60,
};

const office = '10.0.0.9';

function failTimes(throttle: LoginThrottle, names: string[], times: number, at: number): void {
  for (let i = 0; i < times; i += 1) for (const name of names) throttle.fail(name, office, at);
}

function retryAfter(throttle: LoginThrottle, name: string, at: number, address = office): number {
  try {
    throttle.check(name, address, at);
    return 0;
  } catch (error) {
    if (!(error instanceof ThrottledError)) throw error;
    return error.retryAfterSeconds;
  }
}

describe('login throttle', () => {
  it('lets the first four failures of a name through without delay', () => {
    const throttle = new LoginThrottle(settings);
    failTimes(throttle, ['wang'], 4, 0);

    expect(retryAfter(throttle, 'wang', 0)).toBe(0);
  });

  it('locks a name out after the fifth failure and doubles the lockout with each further one', () => {
    const throttle = new LoginThrottle(settings);
    failTimes(throttle, ['wang'], 5, 0);
    expect(retryAfter(throttle, 'wang', 0)).toBe(1);

    throttle.fail('wang', office, 10_000);
    expect(retryAfter(throttle, 'wang', 10_000)).toBe(2);

    throttle.fail('wang', office, 20_000);
    expect(retryAfter(throttle, 'wang', 20_000)).toBe(4);
    expect(retryAfter(throttle, 'wang', 24_000)).toBe(0);
  });

  it('locks a name from every address, and compares names as NFC without case', () => {
    const throttle = new LoginThrottle(settings);
    failTimes(throttle, ['Zoe\u0301'], 5, 0);

    expect(retryAfter(throttle, 'zo\u00e9', 0, '192.0.2.1')).toBe(1);
  });

  it('never locks out for longer than the configured maximum', () => {
    const throttle = new LoginThrottle(settings);
    failTimes(throttle, ['wang'], 40, 0);

    expect(retryAfter(throttle, 'wang', 0)).toBe(60);
  });

  it('allows an address many more failures than a name before it slows that address', () => {
    const throttle = new LoginThrottle(settings);
    const names = Array.from({ length: 19 }, (_, index) => `made-up-${index}`);
    failTimes(throttle, names, 1, 0);
    expect(retryAfter(throttle, 'someone', 0)).toBe(0);

    throttle.fail('made-up-19', office, 0);

    expect(retryAfter(throttle, 'someone', 0)).toBe(1);
    expect(retryAfter(throttle, 'someone', 0, '10.0.0.10')).toBe(0);
  });

  it('does not lock a name out of an address it logged in from when others fail there', () => {
    const throttle = new LoginThrottle(settings);
    throttle.succeed('wang', office);
    const names = Array.from({ length: 30 }, (_, index) => `made-up-${index}`);

    failTimes(throttle, names, 2, 0);

    expect(retryAfter(throttle, 'wang', 0)).toBe(0);
    expect(retryAfter(throttle, 'li', 0)).toBeGreaterThan(0);
    expect(retryAfter(throttle, 'wang', 0, '198.51.100.1')).toBe(0);
  });

  it('forgets the failures of a name after it logs in', () => {
    const throttle = new LoginThrottle(settings);
    failTimes(throttle, ['wang'], 5, 0);

    throttle.succeed('wang', '10.0.0.10');

    expect(retryAfter(throttle, 'wang', 0)).toBe(0);
  });
});
