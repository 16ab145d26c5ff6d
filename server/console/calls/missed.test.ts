import { describe, expect, it } from 'vitest';
import type { CallEntry } from '../api.js';
import { mergeMissed, missedShown } from './missed.js';

function entry(callId: string, outcome: CallEntry['outcome'], endedAt: number): CallEntry {
  return {
    callId,
    kioskId: 'k1',
    kioskName: 'North gate',
    ringStartedAt: endedAt - 30_000,
    answeredAt: null,
    endedAt,
    guard: null,
    outcome,
    endReason: outcome === 'missed' ? 'missed' : 'cancelled',
  };
}

describe('mergeMissed', () => {
  it('takes only missed calls from the history, newest first', () => {
    const history = [
      entry('a', 'missed', 100_000),
      entry('b', 'cancelled', 200_000),
      entry('c', 'missed', 300_000),
    ];

    expect(mergeMissed([], history).map((call) => call.callId)).toEqual(['c', 'a']);
  });

  it('lists a call both sources know once', () => {
    const live = [{ callId: 'a', kioskId: 'k1', kioskName: 'North gate', at: 100_000 }];

    expect(mergeMissed(live, [entry('a', 'missed', 100_000)])).toHaveLength(1);
  });

  it('shows a bounded number', () => {
    const live = Array.from({ length: missedShown + 5 }, (_, index) => ({
      callId: `c${index}`,
      kioskId: 'k1',
      kioskName: 'North gate',
      at: index,
    }));

    expect(mergeMissed(live, [])).toHaveLength(missedShown);
  });
});
