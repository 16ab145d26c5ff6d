import { describe, expect, it } from 'vitest';
import { GuardMessageSchema, KioskMessageSchema } from '../app/contract/intercom-protocol.js';
import { parseSocketMessage } from './socket-message.js';

function parsed(schema: typeof KioskMessageSchema | typeof GuardMessageSchema, message: unknown) {
  const result = parseSocketMessage(schema, Buffer.from(JSON.stringify(message)), false, 4096);
  return result instanceof Error ? result.message : result;
}

describe('socket message parsing', () => {
  it('names a field the protocol does not have, at the top and nested', () => {
    expect(parsed(KioskMessageSchema, { type: 'ping', id: 2, pad: 'x' })).toBe(
      'message does not match the protocol (unknown field pad)',
    );
    const context = { scan: null, photoJpegBase64: null, mood: 'x', size: 1 };
    expect(parsed(KioskMessageSchema, { type: 'call', context })).toBe(
      'message does not match the protocol (unknown field context.mood, unknown field context.size)',
    );
  });

  it('still names the field at fault when a known one is wrong or the type is unknown', () => {
    expect(parsed(GuardMessageSchema, { type: 'ping', id: -1 })).toBe(
      'message does not match the protocol (id)',
    );
    expect(parsed(GuardMessageSchema, { type: 'teleport' })).toBe(
      'message does not match the protocol (type)',
    );
  });

  it('passes a message of the protocol through as parsed', () => {
    expect(parsed(GuardMessageSchema, { type: 'ping', id: 2 })).toEqual({ type: 'ping', id: 2 });
  });
});
