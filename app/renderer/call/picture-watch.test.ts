import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pictureStallMs, watchPicture, type WatchedVideo } from './picture-watch.js';

/** A video element whose frames and events the test delivers. */
function fakeVideo(withFrameCallbacks = true) {
  let frameCallback: (() => void) | null = null;
  const listeners = new Map<string, () => void>();
  const video = {
    videoWidth: 0,
    addEventListener: (name: string, listener: () => void) => listeners.set(name, listener),
    removeEventListener: (name: string) => listeners.delete(name),
    ...(withFrameCallbacks && {
      requestVideoFrameCallback: (callback: () => void) => {
        frameCallback = callback;
        return 1;
      },
      cancelVideoFrameCallback: () => {
        frameCallback = null;
      },
    }),
  };

  return {
    video: video as unknown as WatchedVideo,
    frame: () => frameCallback?.(),
    event: (name: string, width: number) => {
      video.videoWidth = width;
      listeners.get(name)?.();
    },
    listening: () => listeners.size,
    waitingForFrames: () => frameCallback !== null,
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('watchPicture', () => {
  it('shows the picture when frames arrive and the avatar once they stop', () => {
    const changes: boolean[] = [];
    const source = fakeVideo();
    watchPicture(
      source.video,
      (has) => changes.push(has),
      () => Date.now(),
    );

    vi.advanceTimersByTime(5000);
    expect(changes).toEqual([]);

    source.frame();
    vi.advanceTimersByTime(pictureStallMs / 2);
    source.frame();
    vi.advanceTimersByTime(pictureStallMs / 2);
    expect(changes).toEqual([true]);

    vi.advanceTimersByTime(pictureStallMs * 2);
    expect(changes).toEqual([true, false]);

    source.frame();
    expect(changes).toEqual([true, false, true]);
  });

  it('stops watching when asked', () => {
    const changes: boolean[] = [];
    const source = fakeVideo();
    const stop = watchPicture(
      source.video,
      (has) => changes.push(has),
      () => Date.now(),
    );

    stop();
    source.frame();
    vi.advanceTimersByTime(pictureStallMs * 2);

    expect(changes).toEqual([]);
    expect(source.waitingForFrames()).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('goes by the video size in a browser without frame callbacks', () => {
    const changes: boolean[] = [];
    const source = fakeVideo(false);
    const stop = watchPicture(source.video, (has) => changes.push(has));

    source.event('resize', 640);
    source.event('emptied', 0);
    stop();

    expect(changes).toEqual([true, false]);
    expect(source.listening()).toBe(0);
  });
});
