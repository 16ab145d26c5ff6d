import { describe, expect, it } from 'vitest';
import { KioskError } from '../common/errors.js';
import { errorCode, errorMessageKey } from './error-message.js';

describe('errorMessageKey', () => {
  it('gives connection loss and slowness their own messages', () => {
    expect(errorMessageKey('disconnected')).toBe('errors.disconnected');
    expect(errorMessageKey('timeout')).toBe('errors.timeout');
  });

  it('recognises camera trouble from scanner codes and browser error names', () => {
    expect(errorMessageKey('camera_unavailable')).toBe('errors.camera');
    expect(errorMessageKey('NotAllowedError')).toBe('errors.camera');
    expect(errorMessageKey('NotReadableError')).toBe('errors.camera');
  });

  it('falls back to the general message for anything technical', () => {
    expect(errorMessageKey('store_failed')).toBe('errors.generic');
    expect(errorMessageKey('internal')).toBe('errors.generic');
  });
});

describe('errorCode', () => {
  it('reads the code of a KioskError', () => {
    expect(errorCode(new KioskError('timeout', 'slow'))).toBe('timeout');
  });

  it('reads the name of a DOMException-like error', () => {
    expect(errorCode({ name: 'NotAllowedError', message: 'denied' })).toBe('NotAllowedError');
  });

  it('reads the code that leads the message of an error rebuilt by Electron’s context bridge', () => {
    expect(errorCode(new Error('bad_payload: locale: invalid option'))).toBe('bad_payload');
    expect(errorCode(new Error('nonsense: not one of ours'))).toBe('internal');
  });

  it('calls a plain error or a non-error internal', () => {
    expect(errorCode(new Error('boom'))).toBe('internal');
    expect(errorCode('boom')).toBe('internal');
  });
});
