/**
 * Hands the camera from the pass scanner to a call. Both open the same device; the scanner stops
 * when its screen goes, but a camera open it began may still be in flight and only then find out
 * it should let go. A call waits for such opens to settle, so it never fights the scanner for it.
 */
const opening = new Set<Promise<unknown>>();

/** Notes a camera open that has begun; it counts until it settles, whichever way. */
export function noteCameraOpening(open: Promise<unknown>): void {
  const forget = () => opening.delete(open);

  opening.add(open);
  open.then(forget, forget);
}

/** Resolves once every camera open noted so far has settled (and released, if stopped). */
export async function cameraOpensSettled(): Promise<void> {
  await Promise.allSettled([...opening]);
}
