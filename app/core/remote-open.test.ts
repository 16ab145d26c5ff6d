import { describe, expect, it } from 'vitest';
import { Gate } from './gate.js';
import type { AuditEntry } from './ports.js';
import { createRemoteOpener, type RemoteOpenCommand, type RemoteOpener } from './remote-open.js';
import { FakeRelay } from './testing/fake-relay.js';

const now = Date.UTC(2026, 0, 5, 9, 0, 0);

interface Setup {
  opener: RemoteOpener;
  relay: FakeRelay;
  audit: AuditEntry[];
  /** How many audit lines existed at each pulse, to show the opening was written first. */
  auditLinesAtPulse: number[];
}

async function setup(options: { failAudit?: boolean } = {}): Promise<Setup> {
  const relay = new FakeRelay();
  await relay.open();

  const audit: AuditEntry[] = [];
  const store = {
    appendAudit: (entry: AuditEntry) => {
      if (options.failAudit) throw new Error('disk full');
      audit.push(entry);
    },
  };
  const auditLinesAtPulse: number[] = [];
  relay.beforePulse = () => auditLinesAtPulse.push(audit.length);

  const clock = () => now;
  const gate = new Gate({ relay, pulseMs: 500, audit: store, now: clock });
  const opener = createRemoteOpener({ gate, audit: store, now: clock });
  return { opener, relay, audit, auditLinesAtPulse };
}

let nonces = 0;

function command(overrides: Partial<RemoteOpenCommand> = {}): RemoteOpenCommand {
  nonces += 1;
  return {
    callId: 'call-1',
    guard: 'wang',
    issuedAt: now - 200,
    nonce: `nonce-${nonces}-abcdefgh`,
    ...overrides,
  };
}

function refusals(audit: AuditEntry[]): unknown[] {
  return audit
    .filter((entry) => entry.action === 'gate.remote_open_refused')
    .map((entry) => entry.detail.reason);
}

describe('a remote open command', () => {
  it('opens once for the active call and the guard who answered it, audited before the pulse', async () => {
    const s = await setup();
    s.opener.activeCall('call-1', 'wang');

    const result = await s.opener.open(command());

    expect(result).toEqual({ opened: true, at: now });
    expect(s.relay.pulses).toEqual([500]);
    expect(s.audit).toMatchObject([
      {
        action: 'gate.open',
        actor: 'guard:wang',
        detail: { reason: 'guard_command', callId: 'call-1' },
      },
    ]);
    expect(s.auditLinesAtPulse).toEqual([1]);
  });

  it('opens nothing for a guard other than the one who answered', async () => {
    const s = await setup();
    s.opener.activeCall('call-1', 'wang');

    const result = await s.opener.open(command({ guard: 'li' }));

    expect(result).toEqual({ opened: false, reason: 'wrong_guard' });
    expect(s.relay.pulses).toEqual([]);
    expect(s.audit).toMatchObject([
      { action: 'gate.remote_open_refused', actor: 'guard:li', detail: { reason: 'wrong_guard' } },
    ]);
  });

  it('opens nothing once the call has ended', async () => {
    const s = await setup();
    s.opener.activeCall('call-1', 'wang');
    s.opener.endCall();

    const result = await s.opener.open(command());

    expect(result).toEqual({ opened: false, reason: 'call_ended' });
    expect(s.relay.pulses).toEqual([]);
    expect(refusals(s.audit)).toEqual(['call_ended']);
  });

  it('opens nothing for a call that is not the one in progress, or when there is none', async () => {
    const s = await setup();

    const withoutCall = await s.opener.open(command());
    s.opener.activeCall('call-2', 'wang');
    const otherCall = await s.opener.open(command({ callId: 'call-7' }));

    expect(withoutCall).toEqual({ opened: false, reason: 'no_active_call' });
    expect(otherCall).toEqual({ opened: false, reason: 'unknown_call' });
    expect(s.relay.pulses).toEqual([]);
    expect(refusals(s.audit)).toEqual(['no_active_call', 'unknown_call']);
  });

  it('opens nothing for a command issued more than five seconds ago or ahead of the clock', async () => {
    const s = await setup();
    s.opener.activeCall('call-1', 'wang');

    const old = await s.opener.open(command({ issuedAt: now - 5_001 }));
    const ahead = await s.opener.open(command({ issuedAt: now + 5_001 }));
    const justFresh = await s.opener.open(command({ issuedAt: now - 5_000 }));

    expect([old, ahead]).toEqual([
      { opened: false, reason: 'stale' },
      { opened: false, reason: 'stale' },
    ]);
    expect(justFresh.opened).toBe(true);
    expect(s.relay.pulses).toHaveLength(1);
    expect(refusals(s.audit)).toEqual(['stale', 'stale']);
  });

  it('opens nothing for a replayed nonce, even when the replay arrives at the same time', async () => {
    const s = await setup();
    s.opener.activeCall('call-1', 'wang');
    const original = command();

    const [first, concurrent] = await Promise.all([
      s.opener.open(original),
      s.opener.open({ ...original }),
    ]);
    const later = await s.opener.open({ ...original });

    expect(first.opened).toBe(true);
    expect([concurrent, later]).toEqual([
      { opened: false, reason: 'replayed' },
      { opened: false, reason: 'replayed' },
    ]);
    expect(s.relay.pulses).toHaveLength(1);
  });

  it('opens nothing for a nonce spent on an earlier call, however fresh the copy claims to be', async () => {
    let clock = now;
    const relay = new FakeRelay();
    await relay.open();
    const audit: AuditEntry[] = [];
    const store = { appendAudit: (entry: AuditEntry) => void audit.push(entry) };
    const gate = new Gate({ relay, pulseMs: 500, audit: store, now: () => clock });
    const opener = createRemoteOpener({ gate, audit: store, now: () => clock });
    opener.activeCall('call-1', 'wang');
    const original = command({ issuedAt: clock });
    expect((await opener.open(original)).opened).toBe(true);
    opener.endCall();

    clock += 10 * 60_000;
    opener.activeCall('call-2', 'wang');
    const copied = await opener.open({ ...original, callId: 'call-2', issuedAt: clock });

    expect(copied).toEqual({ opened: false, reason: 'replayed' });
    expect(relay.pulses).toHaveLength(1);
  });

  it('opens once per call: further opens from the guard holding it are refused and pulse nothing', async () => {
    const s = await setup();
    s.opener.activeCall('call-1', 'wang');

    const [first, second, third] = await Promise.all([
      s.opener.open(command()),
      s.opener.open(command()),
      s.opener.open(command()),
    ]);
    const later = await s.opener.open(command());

    expect(first).toEqual({ opened: true, at: now });
    expect([second, third, later]).toEqual([
      { opened: false, reason: 'already_opened' },
      { opened: false, reason: 'already_opened' },
      { opened: false, reason: 'already_opened' },
    ]);
    expect(s.relay.pulses).toEqual([500]);
    expect(s.audit.filter((entry) => entry.action === 'gate.open')).toHaveLength(1);
    expect(refusals(s.audit)).toEqual(['already_opened', 'already_opened', 'already_opened']);
  });

  it('opens again for the next call after one call opened', async () => {
    const s = await setup();
    s.opener.activeCall('call-1', 'wang');
    await s.opener.open(command());
    s.opener.endCall();

    s.opener.activeCall('call-2', 'wang');
    const next = await s.opener.open(command({ callId: 'call-2' }));

    expect(next.opened).toBe(true);
    expect(s.relay.pulses).toEqual([500, 500]);
  });

  it('lets the guard try again when the relay reported the pulse as failed', async () => {
    const s = await setup();
    s.opener.activeCall('call-1', 'wang');
    s.relay.failPulse = true;

    const failed = await s.opener.open(command());
    s.relay.failPulse = false;
    const retry = await s.opener.open(command());
    const third = await s.opener.open(command());

    expect(failed).toEqual({ opened: false, reason: 'failed' });
    expect(retry.opened).toBe(true);
    expect(third).toEqual({ opened: false, reason: 'already_opened' });
    // The fake records the failed attempt too: two attempts, the third never reached the relay.
    expect(s.relay.pulses).toEqual([500, 500]);
  });

  it('opens nothing for a malformed command', async () => {
    const s = await setup();
    s.opener.activeCall('call-1', 'wang');

    const results = await Promise.all(
      [null, 'open', { callId: 'call-1', guard: 'wang' }, { ...command(), issuedAt: 'now' }].map(
        (input) => s.opener.open(input),
      ),
    );

    expect(results.every((result) => !result.opened && result.reason === 'malformed')).toBe(true);
    expect(s.relay.pulses).toEqual([]);
    expect(refusals(s.audit)).toEqual(['malformed', 'malformed', 'malformed', 'malformed']);
  });

  it('opens nothing when the call ends while the command waits for the gate', async () => {
    const s = await setup();
    s.opener.activeCall('call-1', 'wang');

    const opening = s.opener.open(command());
    s.opener.endCall();

    expect(await opening).toEqual({ opened: false, reason: 'call_ended' });
    expect(s.relay.pulses).toEqual([]);
  });

  it('opens nothing when the opening cannot be written to the audit log', async () => {
    const s = await setup({ failAudit: true });
    s.opener.activeCall('call-1', 'wang');

    const result = await s.opener.open(command());

    expect(result).toEqual({ opened: false, reason: 'not_committed' });
    expect(s.relay.pulses).toEqual([]);
  });

  it('opens nothing while the relay is disconnected', async () => {
    const s = await setup();
    s.relay.setState('disconnected');
    s.opener.activeCall('call-1', 'wang');

    const result = await s.opener.open(command());

    expect(result).toEqual({ opened: false, reason: 'unavailable' });
    expect(s.relay.pulses).toEqual([]);
    expect(s.audit.map((entry) => entry.action)).toEqual(['gate.unavailable']);
  });
});
