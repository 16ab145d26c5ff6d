import { describe, expect, it } from 'vitest';
import { LoginThrottle, ThrottledError } from './auth.js';

const settings = {
  freeFailures: 5,
  freeFailuresPerAddress: 20,
  freeFailuresPerName: 50,
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

  it('locks a name out of the failing address only, and compares names as NFC without case', () => {
    const throttle = new LoginThrottle(settings);
    failTimes(throttle, ['Zoe\u0301'], 5, 0);

    expect(retryAfter(throttle, 'zo\u00e9', 0)).toBe(1);
    expect(retryAfter(throttle, 'zo\u00e9', 0, '192.0.2.1')).toBe(0);
  });

  it('keeps a locked address locked when the guard logs in from elsewhere', () => {
    const throttle = new LoginThrottle(settings);
    failTimes(throttle, ['wang'], 5, 0);

    throttle.succeed('wang', '10.0.0.10');

    expect(retryAfter(throttle, 'wang', 0)).toBe(1);
  });

  it('slows a name guessed from many addresses, except where it logged in before', () => {
    const throttle = new LoginThrottle(settings);
    throttle.succeed('wang', office);
    for (let host = 1; host <= 50; host += 1) throttle.fail('wang', `198.51.100.${host}`, 0);

    expect(retryAfter(throttle, 'wang', 0, '203.0.113.1')).toBe(1);
    expect(retryAfter(throttle, 'wang', 0)).toBe(0);
  });

  it('starts counting a name across addresses afresh after an hour without failures', () => {
    const throttle = new LoginThrottle(settings);
    for (let host = 1; host <= 49; host += 1) throttle.fail('wang', `198.51.100.${host}`, 0);

    const later = 3_600_001;
    throttle.fail('wang', '198.51.100.50', later);

    expect(retryAfter(throttle, 'wang', later, '203.0.113.1')).toBe(0);
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

    throttle.succeed('wang', office);

    expect(retryAfter(throttle, 'wang', 0)).toBe(0);
  });
});
