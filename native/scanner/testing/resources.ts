/**
 * What a leak test compares before and after many reconnects: the process's open handles by kind
 * (sockets, pipes, terminals, child processes), and apart from them the timers and the requests
 * in flight (a file check under way), which come and go with every tick.
 */

/** Open handles by kind, and how many timers and requests are active besides. */
export interface ResourceCounts {
  handles: Record<string, number>;
  timers: number;
  requests: number;
}

/** Counts process.getActiveResourcesInfo() by kind. */
export function resourceCounts(): ResourceCounts {
  const counts: ResourceCounts = { handles: {}, timers: 0, requests: 0 };
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'Timeout' || kind === 'Immediate') counts.timers += 1;
    else if (/Req/.test(kind)) counts.requests += 1;
    else counts.handles[kind] = (counts.handles[kind] ?? 0) + 1;
  }
  return counts;
}
