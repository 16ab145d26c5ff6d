import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { chooseCamera, readCameraPreference } from './preferences.js';

let stored: Map<string, string>;

beforeEach(() => {
  stored = new Map();
  vi.stubGlobal('localStorage', {
    getItem: (key: string) => stored.get(key) ?? null,
    setItem: (key: string, value: string) => stored.set(key, value),
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the camera choice', () => {
  it('is off until the guard turns it on', () => {
    expect(readCameraPreference()).toBe(false);
  });

  it('applies to the console and is remembered under the key the console has always used', () => {
    const store = { setShareCamera: vi.fn() };

    chooseCamera(store, true);

    expect(store.setShareCamera).toHaveBeenCalledWith(true);
    expect(stored.get('guard-console.share-camera')).toBe('on');
    expect(readCameraPreference()).toBe(true);

    chooseCamera(store, false);
    expect(readCameraPreference()).toBe(false);
  });

  it('still applies when the browser keeps no storage', () => {
    vi.stubGlobal('localStorage', {
      getItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
      setItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
    });
    const store = { setShareCamera: vi.fn() };

    chooseCamera(store, true);

    expect(store.setShareCamera).toHaveBeenCalledWith(true);
    expect(readCameraPreference()).toBe(false);
  });
});
