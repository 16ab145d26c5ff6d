/**
 * Whether the guard's video shows a live picture. The guard's camera may come and go during the
 * call (the console swaps the track it sends), and a stopped remote video keeps its size and its
 * last frame without any event, so the picture counts as live only while new frames arrive.
 */

/** How long without a new frame before the picture counts as gone: the guard hid the camera. */
export const pictureStallMs = 1500;

/** The part of a video element the watch reads. */
export type WatchedVideo = Pick<
  HTMLVideoElement,
  'videoWidth' | 'addEventListener' | 'removeEventListener'
> &
  Partial<Pick<HTMLVideoElement, 'requestVideoFrameCallback' | 'cancelVideoFrameCallback'>>;

/** Calls `onChange` whenever the video starts or stops showing a picture; returns the stop. */
export function watchPicture(
  video: WatchedVideo,
  onChange: (hasPicture: boolean) => void,
  now: () => number = () => performance.now(),
): () => void {
  if (!video.requestVideoFrameCallback) return watchSize(video, onChange);

  return watchFrames(video as Required<WatchedVideo>, onChange, now);
}

function watchFrames(
  video: Required<WatchedVideo>,
  onChange: (hasPicture: boolean) => void,
  now: () => number,
): () => void {
  let hasPicture = false;
  let lastFrameAt = 0;
  const set = (next: boolean) => {
    if (next === hasPicture) return;

    hasPicture = next;
    onChange(next);
  };

  const onFrame = () => {
    lastFrameAt = now();
    set(true);
    handle = video.requestVideoFrameCallback(onFrame);
  };
  let handle = video.requestVideoFrameCallback(onFrame);
  // Checked a few times per stall period, so the avatar returns within about 2 s of the camera.
  const timer = setInterval(() => {
    if (hasPicture && now() - lastFrameAt > pictureStallMs) set(false);
  }, pictureStallMs / 3);

  return () => {
    clearInterval(timer);
    video.cancelVideoFrameCallback(handle);
  };
}

// Without frame callbacks (an old browser) the size is the best sign: a picture has a size.
function watchSize(video: WatchedVideo, onChange: (hasPicture: boolean) => void): () => void {
  const check = () => onChange(video.videoWidth > 0);
  const events = ['loadedmetadata', 'resize', 'emptied'] as const;
  for (const event of events) video.addEventListener(event, check);

  return () => {
    for (const event of events) video.removeEventListener(event, check);
  };
}
