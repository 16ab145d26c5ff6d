/**
 * Messages between the camera scanner and its decoder worker. Frames travel as transferables, so
 * a frame's pixels move to the worker instead of being copied.
 */
import type { DecodedCode } from '../../common/qr-result.js';

/** A frame to decode, numbered so a reply can be matched to it. */
export interface DecodeRequest {
  id: number;
  frame: ImageData | ImageBitmap;
}

/** The codes found in a frame (largest first), or the code of what went wrong. */
export type DecodeReply = { id: number; codes: DecodedCode[] } | { id: number; error: string };
