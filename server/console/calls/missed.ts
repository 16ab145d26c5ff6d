/** The missed-calls list: what the channel announced live and what the history holds. */
import type { CallEntry } from '../api.js';
import type { MissedCall } from './call-state.js';

/** How many missed calls the list shows; the history holds the rest. */
export const missedShown = 20;

/** Live and fetched missed calls together, once each, newest first. */
export function mergeMissed(live: MissedCall[], history: CallEntry[]): MissedCall[] {
  const byId = new Map<string, MissedCall>();
  for (const call of history) {
    if (call.outcome !== 'missed') continue;

    byId.set(call.callId, {
      callId: call.callId,
      kioskId: call.kioskId,
      kioskName: call.kioskName,
      at: call.endedAt ?? call.ringStartedAt,
    });
  }
  for (const call of live) byId.set(call.callId, call);

  return [...byId.values()].sort((a, b) => b.at - a.at).slice(0, missedShown);
}
