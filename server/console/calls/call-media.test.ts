import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openLocalMedia } from './call-media.js';

const stream = { id: 'local' } as unknown as MediaStream;

beforeEach(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('openLocalMedia', () => {
  it('asks for the microphone alone when the guard does not share the camera', async () => {
    const getUserMedia = vi.fn(() => Promise.resolve(stream));

    await expect(openLocalMedia(false, { getUserMedia })).resolves.toBe(stream);
    expect(getUserMedia.mock.calls).toEqual([[{ audio: true }]]);
  });

  it('keeps the sound when the camera fails', async () => {
    const getUserMedia = vi
      .fn<(constraints?: MediaStreamConstraints) => Promise<MediaStream>>()
      .mockRejectedValueOnce(new DOMException('no camera', 'NotFoundError'))
      .mockResolvedValueOnce(stream);

    await expect(openLocalMedia(true, { getUserMedia })).resolves.toBe(stream);
    expect(getUserMedia.mock.calls).toEqual([[{ audio: true, video: true }], [{ audio: true }]]);
  });

  it('answers without local media when nothing can be opened', async () => {
    const getUserMedia = vi.fn(() => Promise.reject(new DOMException('denied', 'NotAllowedError')));

    await expect(openLocalMedia(true, { getUserMedia })).resolves.toBeNull();
  });

  it('answers without local media on a page the browser gives no devices (plain HTTP)', async () => {
    vi.stubGlobal('navigator', {});

    await expect(openLocalMedia(false)).resolves.toBeNull();
  });
});
