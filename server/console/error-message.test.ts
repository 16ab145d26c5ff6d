import { describe, expect, it } from 'vitest';
import { KioskError } from '../../app/common/errors.js';
import { ApiError } from './api.js';
import { errorCodeOf, errorMessageKey } from './error-message.js';

describe('errorMessageKey', () => {
  it('has a message of its own for shared and server-only codes', () => {
    expect(errorMessageKey('throttled')).toBe('errors.throttled');
    expect(errorMessageKey('not_configured')).toBe('errors.not_configured');
  });

  it('falls back to the general message for a code it does not know', () => {
    expect(errorMessageKey('teapot')).toBe('errors.generic');
  });
});

describe('errorCodeOf', () => {
  it('prefers the server’s own code over the shared one', () => {
    expect(errorCodeOf(new ApiError(503, 'not_configured', 'no key'))).toBe('not_configured');
  });

  it('reads shared codes and calls anything else internal', () => {
    expect(errorCodeOf(new KioskError('timeout', 'slow'))).toBe('timeout');
    expect(errorCodeOf(new Error('boom'))).toBe('internal');
  });
});
