import { describe, expect, it } from 'vitest';
import { parseServerConfig } from './config.js';
import { iceServersFor, turnCredentials } from './ice.js';

const secret = 'north-gate-turn-secret';
const nowMs = 1_700_000_000_000;

describe('TURN REST credentials', () => {
  // Expected values computed outside Node with:
  //   printf '1700000600:kiosk-1' | openssl dgst -sha1 -hmac north-gate-turn-secret -binary | base64
  it('match a vector computed independently with openssl', () => {
    const credentials = turnCredentials(secret, 'kiosk-1', 600, nowMs);

    expect(credentials).toEqual({
      username: '1700000600:kiosk-1',
      credential: '4lQOCrjjMjIXt6KzafkwxKlMn+E=',
      expiresAt: 1_700_000_600,
    });
  });

  it('replace a colon in the label so the expiry stays the only field before it', () => {
    const credentials = turnCredentials(secret, 'guard:7', 600, nowMs);

    expect(credentials.username).toBe('1700000600:guard_7');
    expect(credentials.credential).toBe('Q6TpNJNBiw0NLzy/1w4rfe0GeBc=');
  });

  it('expire a TTL after now, rounding the clock down to whole seconds', () => {
    expect(turnCredentials(secret, 'k', 60, nowMs + 999).expiresAt).toBe(1_700_000_060);
  });
});

describe('ICE servers', () => {
  it('list STUN without credentials and TURN with fresh ones', () => {
    const { ice } = parseServerConfig({
      ice: {
        stunUrls: ['stun:stun.example.org:3478'],
        turnUrls: ['turn:turn.example.org:3478?transport=udp'],
        turnSecret: secret,
        turnTtlSeconds: 600,
      },
    });

    expect(iceServersFor(ice, 'kiosk-1', nowMs)).toEqual([
      { urls: ['stun:stun.example.org:3478'] },
      {
        urls: ['turn:turn.example.org:3478?transport=udp'],
        username: '1700000600:kiosk-1',
        credential: '4lQOCrjjMjIXt6KzafkwxKlMn+E=',
      },
    ]);
  });

  it('are empty when nothing is configured (loopback calls need none)', () => {
    expect(iceServersFor(parseServerConfig({}).ice, 'kiosk-1', nowMs)).toEqual([]);
  });
});
