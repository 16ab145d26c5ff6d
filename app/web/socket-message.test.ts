import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { moduleLogger } from './log.js';
import { readSocketMessage } from './socket-message.js';

const PingSchema = z.object({ type: z.literal('ping'), id: z.number() });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('readSocketMessage', () => {
  it('returns a message that fits the schema', () => {
    const log = moduleLogger('test');

    expect(readSocketMessage(PingSchema, '{"type":"ping","id":3}', log)).toEqual({
      type: 'ping',
      id: 3,
    });
  });

  it('drops binary data, broken JSON and a wrong shape, logging each with the fields at fault', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const log = moduleLogger('test');

    expect(readSocketMessage(PingSchema, new ArrayBuffer(4), log)).toBeNull();
    expect(readSocketMessage(PingSchema, '{"type":', log)).toBeNull();
    expect(readSocketMessage(PingSchema, '{"type":"ping","id":"3"}', log)).toBeNull();

    expect(warn.mock.calls).toEqual([
      ['[test] message: not text, ignored', {}],
      ['[test] message: not JSON, ignored', {}],
      ['[test] message: not in the protocol, ignored', { fields: ['id'] }],
    ]);
  });
});
