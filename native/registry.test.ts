import { describe, expect, it } from 'vitest';
import { KioskError } from '../app/common/errors.js';
import { moduleLogger } from '../app/core/log.js';
import { DeviceStateHolder } from './device-state.js';
import { DeviceRegistry, type DeviceStatus } from './registry.js';

const log = moduleLogger('registry.test');

/** A driver stand-in whose state the test moves by hand. */
function device(): DeviceStateHolder & { onStateChange: DeviceStateHolder['subscribe'] } {
  const holder = new DeviceStateHolder(log, { device: 'test' });
  return Object.assign(holder, { onStateChange: holder.subscribe.bind(holder) });
}

function clock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let at = start;
  return { now: () => at, advance: (ms) => (at += ms) };
}

describe('the device registry', () => {
  it('follows each device through unplug and replug, counting disconnects and reconnects', () => {
    const time = clock();
    const registry = new DeviceRegistry(time.now);
    const scanner = device();
    registry.add('scanner', 'scanner', '/dev/ttyACM0', scanner);

    scanner.set('connecting');
    time.advance(10);
    scanner.set('connected');
    time.advance(10);
    scanner.set('disconnected', new KioskError('disconnected', 'port vanished'));
    time.advance(10);
    scanner.set('connecting');
    scanner.set('connected');

    expect(registry.get('scanner')).toMatchObject({
      state: 'connected',
      since: 1_030,
      lastError: { at: 1_020, code: 'disconnected', message: 'port vanished' },
      counters: { disconnects: 1, reconnects: 1, errors: 1, events: 0 },
    });
  });

  it('keeps the last event and error without a state change, with a code for plain errors', () => {
    const time = clock();
    const registry = new DeviceRegistry(time.now);
    registry.add('idcard', 'idCard', '/dev/ttyUSB1', device());

    registry.noteEvent('idcard', 'card');
    time.advance(5);
    registry.noteError('idcard', new Error('surprise'));
    registry.noteEvent('gone', 'card');

    expect(registry.get('idcard')).toMatchObject({
      lastEvent: { at: 1_000, what: 'card' },
      lastError: { at: 1_005, code: 'internal', message: 'surprise' },
      counters: { events: 1, errors: 1 },
    });
    expect(registry.get('gone')).toBeUndefined();
  });

  it('says an entry method is usable while one device of its kind is connected', () => {
    const registry = new DeviceRegistry();
    const serial = device();
    const hid = device();
    registry.add('scanner:serial', 'scanner', '/dev/ttyACM0', serial);
    registry.add('scanner:hid', 'scanner', '0c2e:0b61', hid);

    expect(registry.usable('scanner')).toBe(false);
    hid.set('connected');
    expect(registry.usable('scanner')).toBe(true);
    expect(registry.usable('idCard')).toBe(false);
    expect(registry.has('idCard')).toBe(false);
  });

  it('tells listeners of every change with a copy they cannot change it through', () => {
    const registry = new DeviceRegistry();
    const relay = device();
    registry.add('relay', 'relay', '/dev/ttyUSB0', relay);
    const seen: DeviceStatus[] = [];
    registry.onChange((status) => seen.push(status));

    relay.set('connected');
    registry.noteEvent('relay', 'pulse');
    seen[0].state = 'error';

    expect(seen.map((status) => status.counters.events)).toEqual([0, 1]);
    expect(seen[1]?.state).toBe('connected');
    expect(registry.get('relay')?.state).toBe('connected');
  });

  it('refuses two devices under one name, and stops watching on close', () => {
    const registry = new DeviceRegistry();
    const relay = device();
    registry.add('relay', 'relay', '/dev/ttyUSB0', relay);

    expect(() => registry.add('relay', 'relay', '/dev/ttyUSB1', device())).toThrow(
      expect.objectContaining({ code: 'config_invalid' }),
    );
    registry.close();
    expect(relay.listenerCount).toBe(0);
    expect(registry.list()).toEqual([]);
  });
});
