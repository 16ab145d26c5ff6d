import { describe, expect, it } from 'vitest';
import { KioskError } from '../common/errors.js';
import { Gate, type GateOpenRequest } from './gate.js';
import type { AuditEntry, DeviceState, RelayDriver } from './ports.js';

/** A relay whose pulses end when the test says so, logging every call into a shared timeline. */
class FakeRelay implements RelayDriver {
  state: DeviceState = 'connected';
  readonly pulses: number[] = [];
  private readonly listeners = new Set<(state: DeviceState, error?: Error) => void>();
  private pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(
    private readonly timeline: string[],
    private readonly mode: 'instant' | 'held' | 'failing' = 'instant',
  ) {}

  open(): Promise<void> {
    return Promise.resolve();
  }

  pulse(ms: number): Promise<void> {
    this.timeline.push(`pulse ${ms}`);
    this.pulses.push(ms);
    if (this.mode === 'failing') return Promise.reject(new KioskError('disconnected', 'port gone'));
    if (this.mode === 'instant') return Promise.resolve();

    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  /** Ends the oldest held pulse. */
  finishPulse(): void {
    this.pending.shift()?.resolve();
  }

  onStateChange(listener: (state: DeviceState, error?: Error) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  becomes(state: DeviceState): void {
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

interface Setup {
  gate: Gate;
  relay: FakeRelay;
  timeline: string[];
  audit: AuditEntry[];
  clock: { now: number };
}

function setup(mode: 'instant' | 'held' | 'failing' = 'instant', failingStore = false): Setup {
  const timeline: string[] = [];
  const audit: AuditEntry[] = [];
  const clock = { now: 1_000_000 };
  const relay = new FakeRelay(timeline, mode);
  const store = {
    appendAudit(entry: AuditEntry): void {
      if (failingStore) throw new KioskError('store_failed', 'disk full');
      timeline.push(`audit ${entry.action}`);
      audit.push(entry);
    },
  };
  const gate = new Gate({ relay, pulseMs: 700, audit: store, now: () => clock.now });
  return { gate, relay, timeline, audit, clock };
}

function request(timeline: string[], overrides: Partial<GateOpenRequest> = {}): GateOpenRequest {
  return {
    actor: 'pass:p-1',
    reason: 'pass',
    commit: () => {
      timeline.push('commit');
      return true;
    },
    ...overrides,
  };
}

describe('Gate', () => {
  it('commits the opening before it pulses the relay, then reports when it opened', async () => {
    const { gate, relay, timeline, clock } = setup();

    const result = await gate.open(request(timeline));

    expect(timeline).toEqual(['commit', 'pulse 700']);
    expect(result).toEqual({ opened: true, at: clock.now });
    expect(relay.pulses).toEqual([700]);
  });

  it('opens nothing when the commit returns false', async () => {
    const { gate, relay, timeline } = setup();

    const result = await gate.open(request(timeline, { commit: () => false }));

    expect(result).toEqual({ opened: false, reason: 'not_committed' });
    expect(relay.pulses).toEqual([]);
  });

  it('opens nothing, and does not throw, when the commit throws', async () => {
    const { gate, relay, timeline } = setup();
    const commit = (): boolean => {
      throw new KioskError('store_failed', 'disk full');
    };

    const result = await gate.open(request(timeline, { commit }));

    expect(result).toEqual({ opened: false, reason: 'not_committed' });
    expect(relay.pulses).toEqual([]);
  });

  it('drops a request older than the stale limit, audits it and neither commits nor pulses', async () => {
    const { gate, relay, timeline, audit, clock } = setup();

    const result = await gate.open(
      request(timeline, { actor: 'guard:li', issuedAt: clock.now - 5_001 }),
    );

    expect(result).toEqual({ opened: false, reason: 'stale' });
    expect(timeline).toEqual(['audit gate.stale_dropped']);
    expect(audit[0]).toMatchObject({ actor: 'guard:li', at: clock.now, detail: { ageMs: 5_001 } });
    expect(relay.pulses).toEqual([]);
  });

  it('opens on a request exactly at the stale limit', async () => {
    const { gate, timeline, clock } = setup();

    const result = await gate.open(request(timeline, { issuedAt: clock.now - 5_000 }));

    expect(result.opened).toBe(true);
  });

  it('drops a request stamped too far in the future as stale', async () => {
    const { gate, timeline, clock } = setup();

    const result = await gate.open(request(timeline, { issuedAt: clock.now + 60_000 }));

    expect(result).toEqual({ opened: false, reason: 'stale' });
  });

  it('returns unavailable while the relay is down, auditing it and committing nothing', async () => {
    const { gate, relay, timeline, audit } = setup();
    relay.becomes('disconnected');

    const result = await gate.open(request(timeline));

    expect(result).toEqual({ opened: false, reason: 'unavailable' });
    expect(timeline).toEqual(['audit gate.unavailable']);
    expect(audit[0]?.detail).toMatchObject({ relay: 'disconnected', reason: 'pass' });
  });

  it('audits a failed pulse after the commit and reports it as failed', async () => {
    const { gate, timeline, audit } = setup('failing');

    const result = await gate.open(request(timeline));

    expect(result).toEqual({ opened: false, reason: 'failed' });
    expect(timeline).toEqual(['commit', 'pulse 700', 'audit gate.pulse_failed']);
    expect(audit[0]?.detail).toMatchObject({ code: 'disconnected' });
  });

  it('still returns the refusal when the audit store fails', async () => {
    const { gate, relay, timeline } = setup('instant', true);
    relay.becomes('error');

    await expect(gate.open(request(timeline))).resolves.toEqual({
      opened: false,
      reason: 'unavailable',
    });
  });

  it('serialises requests: the next one is committed only after the current pulse ends', async () => {
    const { gate, relay, timeline } = setup('held');
    const first = gate.open(request(timeline, { actor: 'pass:a' }));
    const second = gate.open(request(timeline, { actor: 'pass:b' }));
    await expect.poll(() => timeline).toEqual(['commit', 'pulse 700']);

    relay.finishPulse();
    await first;
    await expect.poll(() => timeline).toEqual(['commit', 'pulse 700', 'commit', 'pulse 700']);
    relay.finishPulse();

    await expect(second).resolves.toMatchObject({ opened: true });
  });

  it('judges a queued request stale at its turn, not when it was asked', async () => {
    const { gate, relay, timeline, clock } = setup('held');
    const first = gate.open(request(timeline));
    const queued = gate.open(request(timeline, { issuedAt: clock.now }));
    await expect.poll(() => relay.pulses.length).toBe(1);

    clock.now += 6_000;
    relay.finishPulse();
    await first;

    await expect(queued).resolves.toEqual({ opened: false, reason: 'stale' });
    expect(relay.pulses).toHaveLength(1);
  });

  it('follows the relay: available while connected, telling listeners only of real changes', () => {
    const { gate, relay } = setup();
    const heard: boolean[] = [];
    const unsubscribe = gate.onAvailabilityChange((available) => heard.push(available));

    relay.becomes('disconnected');
    relay.becomes('connecting');
    expect(gate.available).toBe(false);
    relay.becomes('connected');
    expect(gate.available).toBe(true);
    unsubscribe();
    relay.becomes('error');

    expect(heard).toEqual([false, true]);
    expect(relay.listenerCount).toBe(0);
  });
});
