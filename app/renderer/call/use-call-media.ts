/**
 * Runs a call's media while the view shows the call answered: on the in-call screen and on the
 * opened screen after it, where the guard may still talk until the core hangs up. The page holds
 * it above the screens, so moving from one of them to the other keeps the same connection.
 */
import { useEffect, useState } from 'react';
import type { KioskView } from '../../contract/api.js';
import type { MediaConfig } from '../../contract/intercom-protocol.js';
import type { KioskActions } from '../kiosk-context.js';
import { startCallMedia } from './call-media.js';

/** The streams of the running call and the code of a camera or microphone failure, if any. */
export interface CallMediaState {
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  deviceError: string | null;
}

/** No call media: what every screen but the call's own sees. */
export const noCallMedia: CallMediaState = {
  localStream: null,
  remoteStream: null,
  deviceError: null,
};

/** What the media of a call runs with; the media restarts only when this changes. */
export interface MediaCall {
  callId: string;
  /** The ICE settings as JSON: every view carries a fresh copy of the same settings. */
  mediaJson: string;
}

/** The answered, not yet ended call of `view` whose media should run, or null. */
export function mediaCallOf(view: KioskView | null): MediaCall | null {
  const call = view?.call;
  if (view?.screen !== 'inCall' && view?.screen !== 'callOpened') return null;
  if (!call?.callId || !call.media || call.endReason !== null) return null;

  return { callId: call.callId, mediaJson: JSON.stringify(call.media) };
}

/** Starts the media for the view's call; stops it once the view shows no call to talk in. */
export function useCallMedia(view: KioskView | null, kiosk: KioskActions): CallMediaState {
  const [state, setState] = useState<CallMediaState>(noCallMedia);
  const call = mediaCallOf(view);
  const callId = call?.callId ?? null;
  const mediaJson = call?.mediaJson ?? null;

  useEffect(() => {
    if (!callId || !mediaJson) return undefined;

    const session = startCallMedia({
      callId,
      media: JSON.parse(mediaJson) as MediaConfig,
      api: kiosk.api,
      onLocalStream: (localStream) => setState((old) => ({ ...old, localStream })),
      onRemoteStream: (remoteStream) => setState((old) => ({ ...old, remoteStream })),
      onDeviceError: (deviceError) => setState((old) => ({ ...old, deviceError })),
    });
    return () => {
      session.stop();
      setState(noCallMedia);
    };
  }, [callId, mediaJson, kiosk]);

  return state;
}
