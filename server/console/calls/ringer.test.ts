import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Ringer } from './ringer.js';

/** Just enough of WebAudio to see what the ringer schedules and cuts off. */
class FakeAudioContext {
  static instances: FakeAudioContext[] = [];
  state: 'suspended' | 'running' = 'suspended';
  currentTime = 0;
  onstatechange: (() => void) | null = null;
  readonly destination = {};
  readonly gains: { connected: boolean }[] = [];
  readonly oscillators: { frequency: { value: number }; startedAt: number }[] = [];

  constructor() {
    FakeAudioContext.instances.push(this);
  }

  resume(): Promise<void> {
    this.state = 'running';
    return Promise.resolve();
  }

  createGain() {
    const gain = {
      connected: false,
      gain: {
        setValueAtTime: () => undefined,
        linearRampToValueAtTime: () => undefined,
      },
      connect: () => {
        gain.connected = true;
      },
      disconnect: () => {
        gain.connected = false;
      },
    };
    this.gains.push(gain);
    return gain;
  }

  createOscillator() {
    const oscillator = {
      type: 'sine',
      frequency: { value: 0 },
      startedAt: -1,
      onended: null,
      connect: () => undefined,
      disconnect: () => undefined,
      start: (at: number) => {
        oscillator.startedAt = at;
      },
      stop: () => undefined,
    };
    this.oscillators.push(oscillator);
    return oscillator;
  }
}

function context(): FakeAudioContext {
  const found = FakeAudioContext.instances.at(-1);
  if (!found) throw new Error('no audio context was made');
  return found;
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeAudioContext.instances = [];
  vi.stubGlobal('AudioContext', FakeAudioContext);
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('Ringer', () => {
  it('makes no audio context before a gesture, so the browser never blocks one', () => {
    const ringer = new Ringer();
    ringer.ring(true);
    vi.advanceTimersByTime(10_000);

    expect(FakeAudioContext.instances).toEqual([]);
    expect(ringer.unlocked).toBe(false);
  });

  it('starts ringing as soon as a gesture unlocks the sound', async () => {
    const ringer = new Ringer();
    const heard = vi.fn();
    ringer.subscribe(heard);
    ringer.ring(true);
    ringer.unlock();
    await vi.waitFor(() => expect(ringer.unlocked).toBe(true));

    expect(heard).toHaveBeenCalled();
    expect(context().gains.length).toBeGreaterThan(0);
  });

  it('rings two notes per burst, twice per cycle, every three seconds', async () => {
    const ringer = new Ringer();
    ringer.unlock();
    await vi.waitFor(() => expect(ringer.unlocked).toBe(true));
    ringer.ring(true);

    expect(context().gains).toHaveLength(2);
    expect(context().oscillators).toHaveLength(4);
    vi.advanceTimersByTime(3000);
    expect(context().gains).toHaveLength(4);
  });

  it('cuts off what was scheduled the moment nothing rings', async () => {
    const ringer = new Ringer();
    ringer.unlock();
    await vi.waitFor(() => expect(ringer.unlocked).toBe(true));
    ringer.ring(true);
    ringer.ring(false);
    vi.advanceTimersByTime(10_000);

    expect(context().gains.every((gain) => !gain.connected)).toBe(true);
    expect(context().gains).toHaveLength(2);
  });
});
