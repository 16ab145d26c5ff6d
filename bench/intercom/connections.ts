/**
 * Many kiosks on one intercom server: enrols `count` kiosks through the admin API, connects each
 * with the kiosk's own control-connection client (hello, then an application ping every heartbeat
 * and the server's WebSocket pings), holds them all for a while and measures the server process's
 * resident memory before and after, and the ping round trips the kiosks measure meanwhile.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { IntercomClient } from '../../app/core/intercom-client.js';
import { IntercomApi, startIntercomServer } from '../../e2e/support/intercom-server.js';

/** What one run of the fleet measured. */
export interface FleetResult {
  kiosks: number;
  /** How long connecting every kiosk took. */
  connectMs: number;
  holdSeconds: number;
  heartbeatSeconds: number;
  /** Server RSS with every kiosk enrolled and none connected, and at the end of the hold. */
  rssBeforeKiB: number;
  rssAfterKiB: number;
  rssPeakKiB: number;
  /** Ping → pong round trips measured by the kiosks while all were connected. */
  roundTripsMs: number[];
  /** Kiosks the server listed online at the end of the hold. */
  onlineAtEnd: number;
  /** Connections that dropped and came back during the hold. */
  reconnects: number;
}

/** How the fleet runs. */
export interface FleetOptions {
  /** A scratch folder for the server's configuration and store. */
  dir: string;
  kiosks: number;
  holdSeconds: number;
  heartbeatSeconds: number;
  progress(text: string): void;
}

interface Kiosk {
  id: string;
  secret: string;
}

// Enough in flight to be quick, few enough not to queue up behind the server's SQLite writes.
const enrolConcurrency = 16;
const connectBatch = 50;
const connectTimeoutMs = 30_000;

/** Runs the fleet against a fresh server and stops everything it started. */
export async function measureFleet(options: FleetOptions): Promise<FleetResult> {
  const server = await startIntercomServer({
    dir: path.join(options.dir, 'fleet-server'),
    // The server's info log would write a line per kiosk connecting: measure the server, not that.
    logLevel: 'warn',
    config: { kiosks: { heartbeatSeconds: options.heartbeatSeconds } },
  });
  const clients: IntercomClient[] = [];

  try {
    const admin = await IntercomApi.login(server.url);
    const kiosks = await enrolFleet(admin, options);
    // Let the enrolment's garbage settle before the baseline is read.
    await delay(2_000);
    const rssBeforeKiB = await residentKiB(server.pid);

    const started = performance.now();
    for (let index = 0; index < kiosks.length; index += connectBatch) {
      const batch = kiosks.slice(index, index + connectBatch);
      clients.push(
        ...(await Promise.all(batch.map((kiosk) => connect(server.kioskChannelUrl, kiosk)))),
      );
      options.progress(`kiosks connected ${clients.length}/${kiosks.length}`);
    }
    const connectMs = performance.now() - started;

    const hold = await holdFleet(clients, server.pid, options);
    const { kiosks: listed } = await admin.get<{ kiosks: Array<{ online: boolean }> }>(
      '/api/kiosks',
    );
    const rssAfterKiB = await residentKiB(server.pid);

    return {
      kiosks: kiosks.length,
      connectMs,
      holdSeconds: options.holdSeconds,
      heartbeatSeconds: options.heartbeatSeconds,
      rssBeforeKiB,
      rssAfterKiB,
      rssPeakKiB: Math.max(hold.rssPeakKiB, rssAfterKiB),
      roundTripsMs: hold.roundTripsMs,
      onlineAtEnd: listed.filter((kiosk) => kiosk.online).length,
      reconnects: hold.reconnects,
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await server.stop();
  }
}

async function enrolFleet(admin: IntercomApi, options: FleetOptions): Promise<Kiosk[]> {
  const ids = Array.from({ length: options.kiosks }, (_, index) => `fleet-${index + 1}`);
  const kiosks: Kiosk[] = [];
  let next = 0;

  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      kiosks.push({ id, secret: await admin.enrolKiosk(id, `Fleet kiosk ${id}`, null) });
      if (kiosks.length % 200 === 0)
        options.progress(`kiosks enrolled ${kiosks.length}/${ids.length}`);
    }
  };
  await Promise.all(Array.from({ length: enrolConcurrency }, worker));
  return kiosks;
}

/** One kiosk's control connection, resolved once the server welcomed it. */
function connect(url: string, kiosk: Kiosk): Promise<IntercomClient> {
  const client = new IntercomClient({
    url,
    kioskId: kiosk.id,
    secret: kiosk.secret,
    version: 'bench',
    reconnectMinMs: 1_000,
    reconnectMaxMs: 5_000,
  });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void client.close();
      reject(new Error(`kiosk ${kiosk.id} not connected within ${connectTimeoutMs} ms`));
    }, connectTimeoutMs);
    const onState = (state: string) => {
      if (state !== 'connected') return;

      clearTimeout(timer);
      client.off('state', onState);
      resolve(client);
    };
    client.on('state', onState);
    client.start();
  });
}

/** Holds every connection for the run's hold time, collecting round trips and the server's RSS. */
async function holdFleet(
  clients: IntercomClient[],
  pid: number,
  options: FleetOptions,
): Promise<{ roundTripsMs: number[]; rssPeakKiB: number; reconnects: number }> {
  const roundTripsMs: number[] = [];
  let reconnects = 0;
  const onRoundTrip = (ms: number) => roundTripsMs.push(ms);
  const onState = (state: string) => {
    if (state === 'connected') reconnects += 1;
  };
  for (const client of clients) {
    client.on('roundTrip', onRoundTrip);
    client.on('state', onState);
  }

  let rssPeakKiB = 0;
  for (let second = 1; second <= options.holdSeconds; second += 1) {
    await delay(1_000);
    rssPeakKiB = Math.max(rssPeakKiB, await residentKiB(pid));
    if (second % 5 === 0) options.progress(`holding ${second}/${options.holdSeconds} s`);
  }

  for (const client of clients) {
    client.off('roundTrip', onRoundTrip);
    client.off('state', onState);
  }
  return { roundTripsMs, rssPeakKiB, reconnects };
}

/** VmRSS of a process, in KiB, from /proc (Linux). */
async function residentKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);

  return Number(match[1]);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
