import { describe, expect, it } from 'vitest';
import { pageFromHash } from './use-hash-page.js';

describe('pageFromHash', () => {
  it('reads the page from the fragment, with or without the slash', () => {
    expect(pageFromHash('#/kiosks')).toBe('kiosks');
    expect(pageFromHash('#passes')).toBe('passes');
    expect(pageFromHash('#/admin')).toBe('admin');
  });

  it('shows the calls page for an empty or unknown fragment', () => {
    expect(pageFromHash('')).toBe('calls');
    expect(pageFromHash('#/settings')).toBe('calls');
  });
});
