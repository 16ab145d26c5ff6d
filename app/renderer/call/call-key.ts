/**
 * A call button that presents itself as a keyboard: many USB buttons type one key. The key calls
 * a guard from anywhere in the page; whether a call may start now is the core's decision.
 */
import { useEffect, useRef } from 'react';

type KeyTarget = Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
type KeyEventLike = Pick<KeyboardEvent, 'code' | 'repeat' | 'preventDefault'>;

/** A keydown listener that calls `onCall` for `callKey` (a KeyboardEvent.code), once per press. */
export function callKeyListener(
  callKey: string,
  onCall: () => void,
): (event: KeyEventLike) => void {
  return (event) => {
    if (event.code !== callKey) return;

    // The key must not also type into or activate whatever has focus (Enter on a button, say).
    event.preventDefault();
    // A held button repeats its key; a visitor pressing it long still means one call.
    if (event.repeat) return;

    onCall();
  };
}

/** Listens on `target` for `callKey`; returns the function that stops listening. */
export function watchCallKey(target: KeyTarget, callKey: string, onCall: () => void): () => void {
  const onKey = callKeyListener(callKey, onCall);
  // Only keydown is listened to, and every keydown is a KeyboardEvent.
  const listener = (event: Event) => onKey(event as KeyboardEvent);

  target.addEventListener('keydown', listener);
  return () => target.removeEventListener('keydown', listener);
}

/** Calls `onCall` when the configured call key goes down anywhere in the page. */
export function useCallKey(callKey: string | null, onCall: () => void): void {
  const onCallRef = useRef(onCall);

  useEffect(() => {
    onCallRef.current = onCall;
  }, [onCall]);

  useEffect(() => {
    if (!callKey) return undefined;

    return watchCallKey(window, callKey, () => onCallRef.current());
  }, [callKey]);
}
