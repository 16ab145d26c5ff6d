import { describe, expect, it, vi } from 'vitest';
import { callKeyListener, watchCallKey } from './call-key.js';

function keydown(code: string, repeat = false): Event {
  return Object.assign(new Event('keydown', { cancelable: true }), { code, repeat });
}

describe('callKeyListener', () => {
  it('calls on the configured key and keeps it from reaching the focused element', () => {
    const onCall = vi.fn();
    const event = { code: 'F9', repeat: false, preventDefault: vi.fn() };

    callKeyListener('F9', onCall)(event);

    expect(onCall).toHaveBeenCalledTimes(1);
    expect(event.preventDefault).toHaveBeenCalled();
  });

  it('ignores every other key and leaves it alone', () => {
    const onCall = vi.fn();
    const event = { code: 'Enter', repeat: false, preventDefault: vi.fn() };

    callKeyListener('F9', onCall)(event);

    expect(onCall).not.toHaveBeenCalled();
    expect(event.preventDefault).not.toHaveBeenCalled();
  });

  it('calls once for a held key, ignoring its auto-repeat', () => {
    const onCall = vi.fn();
    const listener = callKeyListener('Space', onCall);

    for (const repeat of [false, true, true, true]) {
      listener({ code: 'Space', repeat, preventDefault: () => undefined });
    }

    expect(onCall).toHaveBeenCalledTimes(1);
  });
});

describe('watchCallKey', () => {
  it('calls for each press on the target until stopped', () => {
    const target = new EventTarget();
    const onCall = vi.fn();
    const stop = watchCallKey(target, 'KeyC', onCall);

    const press = keydown('KeyC');
    target.dispatchEvent(press);
    target.dispatchEvent(keydown('KeyC', true));
    target.dispatchEvent(keydown('KeyD'));
    target.dispatchEvent(keydown('KeyC'));
    stop();
    target.dispatchEvent(keydown('KeyC'));

    expect(onCall).toHaveBeenCalledTimes(2);
    expect(press.defaultPrevented).toBe(true);
  });
});
