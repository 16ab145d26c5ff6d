import { describe, expect, it } from 'vitest';
import { SeenCodes } from './seen-codes.js';

describe('SeenCodes', () => {
  it('reports a code the first time it is in view and not on the frames that follow', () => {
    const seen = new SeenCodes(1500);

    expect(seen.observe(['PASS:1'], 0)).toEqual(['PASS:1']);
    expect(seen.observe(['PASS:1'], 100)).toEqual([]);
    expect(seen.observe(['PASS:1'], 1500)).toEqual([]);
  });

  it('keeps a code in view across a short gap of frames where it was not decoded', () => {
    const seen = new SeenCodes(1500);
    seen.observe(['PASS:1'], 0);

    expect(seen.observe([], 800)).toEqual([]);
    expect(seen.observe(['PASS:1'], 1400)).toEqual([]);
  });

  it('reports the same code again once it has been out of view for longer than the limit', () => {
    const seen = new SeenCodes(1500);
    seen.observe(['PASS:1'], 0);
    seen.observe(['PASS:1'], 1000);

    expect(seen.observe([], 2000)).toEqual([]);
    expect(seen.observe(['PASS:1'], 2600)).toEqual(['PASS:1']);
  });

  it('reports a second code that appears beside one already in view, once', () => {
    const seen = new SeenCodes(1500);
    seen.observe(['PASS:1'], 0);

    expect(seen.observe(['PASS:1', 'PASS:2', 'PASS:2'], 100)).toEqual(['PASS:2']);
  });

  it('reports a code still in view again after reset', () => {
    const seen = new SeenCodes(1500);
    seen.observe(['PASS:1'], 0);
    seen.reset();

    expect(seen.observe(['PASS:1'], 100)).toEqual(['PASS:1']);
  });
});
