/**
 * ICE servers for the guard console and the kiosks. TURN credentials follow the TURN REST form
 * that coturn checks with `use-auth-secret`: the username is `<expiry epoch seconds>:<label>` and
 * the password is base64(HMAC-SHA1(shared secret, username)), so the TURN server needs no call
 * back to us and a leaked credential stops working at its expiry.
 */
import { createHmac } from 'node:crypto';
import type { IceServer, MediaConfig } from '../app/contract/intercom-protocol.js';
import type { ServerConfig } from './config.js';

export type { IceServer };

/** A TURN username and password valid until `expiresAt` (epoch seconds). */
export interface TurnCredentials {
  username: string;
  credential: string;
  expiresAt: number;
}

/** TURN REST credentials for `label` (a guard or kiosk id), valid `ttlSeconds` from `nowMs`. */
export function turnCredentials(
  secret: string,
  label: string,
  ttlSeconds: number,
  nowMs: number,
): TurnCredentials {
  const expiresAt = Math.floor(nowMs / 1000) + ttlSeconds;
  // coturn splits on the first colon; a colon in the label would still verify but confuses logs.
  const username = `${expiresAt}:${label.replaceAll(':', '_')}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');

  return { username, credential, expiresAt };
}

/** The iceServers list for one participant: STUN as configured, TURN with fresh credentials. */
export function iceServersFor(ice: ServerConfig['ice'], label: string, nowMs: number): IceServer[] {
  const servers: IceServer[] = [];
  if (ice.stunUrls.length > 0) servers.push({ urls: ice.stunUrls });

  if (ice.turnUrls.length > 0 && ice.turnSecret) {
    const { username, credential } = turnCredentials(
      ice.turnSecret,
      label,
      ice.turnTtlSeconds,
      nowMs,
    );
    servers.push({ urls: ice.turnUrls, username, credential });
  }
  return servers;
}

/** One participant's WebRTC settings for a call: fresh TURN credentials and the site's policy. */
export function mediaConfigFor(
  ice: ServerConfig['ice'],
  label: string,
  nowMs: number,
): MediaConfig {
  return { iceServers: iceServersFor(ice, label, nowMs), iceTransportPolicy: ice.transportPolicy };
}
