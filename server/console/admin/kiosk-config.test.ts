import { describe, expect, it } from 'vitest';
import { kioskChannelUrl, kioskConfigSnippet } from './kiosk-config.js';

describe('kioskChannelUrl', () => {
  it('puts the kiosk channel beside the console, over ws for http', () => {
    expect(kioskChannelUrl('http://127.0.0.1:8780/#/admin')).toBe('ws://127.0.0.1:8780/kiosk');
  });

  it('keeps a reverse proxy’s sub-path and uses wss for https', () => {
    expect(kioskChannelUrl('https://gate.example/intercom/?x=1#/admin')).toBe(
      'wss://gate.example/intercom/kiosk',
    );
  });
});

describe('kioskConfigSnippet', () => {
  it('is the intercom block of the kiosk configuration, as JSON', () => {
    const snippet = kioskConfigSnippet('ws://10.0.0.2:8780/kiosk', 'north-1', 's3cr3t');

    expect(JSON.parse(snippet)).toEqual({
      intercom: { url: 'ws://10.0.0.2:8780/kiosk', kioskId: 'north-1', secret: 's3cr3t' },
    });
  });
});
