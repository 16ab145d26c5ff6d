/**
 * The intercom, in one run: (a) calls between a kiosk page and a guard console in Chromium on
 * loopback through the real server, timing the call button to the console ringing and the answer
 * to the first video frame on each side; (b) a fleet of kiosk control connections held on one
 * server with heartbeats running, for the server's memory per connection and the signalling round
 * trip the kiosks measure. Prints a table, then one JSON line of the figures.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatTable, percentile, round } from '../support/stats.js';
import { timeCalls, type CallTiming } from './calls.js';
import { measureFleet, type FleetResult } from './connections.js';

const calls = Number(process.env.BENCH_CALLS ?? 20);
const kiosks = Number(process.env.BENCH_KIOSKS ?? 1000);
const holdSeconds = Number(process.env.BENCH_HOLD_SECONDS ?? 20);
const heartbeatSeconds = 1;

const aims = { ringP95Ms: 300, firstFrameP95Ms: 1500, fleetRssMiB: 200 };

/** One progress line, rewritten in place on a terminal and one line each in a log. */
function progress(text: string): void {
  process.stderr.write(process.stderr.isTTY ? `\r${text.padEnd(40)}` : `${text}\n`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'intercom-bench-'));
  try {
    const timings = await timeCalls({ calls, progress });
    const fleet = await measureFleet({ dir, kiosks, holdSeconds, heartbeatSeconds, progress });
    if (process.stderr.isTTY) process.stderr.write('\n');
    report(timings, fleet);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function summary(values: number[]): { median: number; p95: number; max: number } {
  return {
    median: round(percentile(values, 0.5)),
    p95: round(percentile(values, 0.95)),
    max: round(Math.max(...values)),
  };
}

function verdict(met: boolean): string {
  return met ? 'met' : 'NOT met';
}

function report(timings: CallTiming[], fleet: FleetResult): void {
  const ring = summary(timings.map((timing) => timing.ringMs));
  const guardFrame = summary(timings.map((timing) => timing.guardFirstFrameMs));
  const kioskFrame = summary(timings.map((timing) => timing.kioskFirstFrameMs));
  const rtt = {
    median: round(percentile(fleet.roundTripsMs, 0.5), 2),
    p99: round(percentile(fleet.roundTripsMs, 0.99), 2),
    max: round(Math.max(...fleet.roundTripsMs), 2),
  };
  const rssAfterMiB = round(fleet.rssAfterKiB / 1024);
  const rssBeforeMiB = round(fleet.rssBeforeKiB / 1024);
  const perConnectionKiB = round((fleet.rssAfterKiB - fleet.rssBeforeKiB) / fleet.kiosks);
  const met = {
    ring: ring.p95 < aims.ringP95Ms,
    firstFrame: Math.max(guardFrame.p95, kioskFrame.p95) < aims.firstFrameP95Ms,
    fleet: rssAfterMiB < aims.fleetRssMiB && fleet.onlineAtEnd === fleet.kiosks,
  };

  const row = (name: string, figures: { median: number; p95: number; max: number }) => [
    name,
    figures.median.toFixed(1),
    figures.p95.toFixed(1),
    figures.max.toFixed(1),
  ];
  console.log(
    `intercom calls: ${timings.length} on loopback (Chromium, fake camera and microphone)\n`,
  );
  console.log(
    formatTable([
      ['stage', 'median ms', 'p95 ms', 'max ms'],
      row('call key → console ringing', ring),
      row('answer → first video frame at the guard', guardFrame),
      row('answer → first video frame at the kiosk', kioskFrame),
    ]),
  );
  console.log(
    `\n${fleet.kiosks} kiosk control connections, heartbeat ${fleet.heartbeatSeconds} s, held ${fleet.holdSeconds} s\n`,
  );
  console.log(
    formatTable([
      ['figure', 'value'],
      ['server RSS, kiosks enrolled, none connected', `${rssBeforeMiB.toFixed(1)} MiB`],
      ['server RSS, all connected (end of hold)', `${rssAfterMiB.toFixed(1)} MiB`],
      ['server RSS, peak during hold', `${round(fleet.rssPeakKiB / 1024).toFixed(1)} MiB`],
      ['memory per connection', `${perConnectionKiB.toFixed(1)} KiB`],
      ['connecting all kiosks', `${round(fleet.connectMs).toFixed(0)} ms`],
      ['online at end (server)', `${fleet.onlineAtEnd}/${fleet.kiosks}`],
      ['reconnects during hold', String(fleet.reconnects)],
      [`ping round trip median (${fleet.roundTripsMs.length} samples)`, `${rtt.median} ms`],
      ['ping round trip p99', `${rtt.p99} ms`],
      ['ping round trip max', `${rtt.max} ms`],
    ]),
  );
  console.log(
    `\naims: ringing p95 under ${aims.ringP95Ms} ms: ${verdict(met.ring)}; first frame p95 under ` +
      `${aims.firstFrameP95Ms} ms: ${verdict(met.firstFrame)}; ${fleet.kiosks} kiosks under ` +
      `${aims.fleetRssMiB} MiB: ${verdict(met.fleet)}`,
  );
  console.log(
    JSON.stringify({
      benchmark: 'intercom',
      calls: timings.length,
      ringMs: ring,
      guardFirstFrameMs: guardFrame,
      kioskFirstFrameMs: kioskFrame,
      kiosks: fleet.kiosks,
      heartbeatSeconds: fleet.heartbeatSeconds,
      holdSeconds: fleet.holdSeconds,
      rssBeforeMiB,
      rssAfterMiB,
      rssPeakMiB: round(fleet.rssPeakKiB / 1024),
      perConnectionKiB,
      onlineAtEnd: fleet.onlineAtEnd,
      reconnects: fleet.reconnects,
      roundTripMs: { ...rtt, samples: fleet.roundTripsMs.length },
      aims,
      aimsMet: met,
    }),
  );
}

await main();
