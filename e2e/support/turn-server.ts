/**
 * A local coturn relay on loopback for calls that must go through TURN: `turnserver` with TURN
 * REST credentials (`use-auth-secret`, the form the intercom server hands out), UDP only, its relay
 * ports in a small range of their own. It is ready once it answers a STUN binding request. It can
 * be killed, as a crash or a lost network would end it, and started again on the same port with
 * the same secret.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Debian's coturn package installs it here; KIOSK_TURNSERVER names another. */
export const turnserverPath = process.env.KIOSK_TURNSERVER ?? '/usr/bin/turnserver';

/** A running coturn. */
export interface TurnServer {
  /** The url for the intercom server's `ice.turnUrls`. */
  readonly url: string;
  /** coturn's static-auth-secret, for the intercom server's `ice.turnSecret`. */
  readonly secret: string;
  readonly port: number;
  /** coturn's output across every run, each run headed by a marker line. */
  log(): string;
  /** Ends coturn at once (SIGKILL): its sessions and allocations go with it. */
  kill(): Promise<void>;
  /** Starts coturn again after kill(), on the same port, secret and relay ports. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What stays the same across a coturn's runs. */
interface TurnSetup {
  dir: string;
  port: number;
  secret: string;
  minPort: number;
}

/** One coturn process. */
interface TurnRun {
  child: ChildProcess;
  exited: Promise<void>;
  output(): string;
}

const maxLogChars = 200_000;

// Every coturn still running, killed if the test runner exits half way through a test.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
const readyTimeoutMs = 10_000;

/** Why coturn cannot run here, or undefined when it can. */
export function turnserverMissing(): string | undefined {
  const probe = spawnSync(turnserverPath, ['--version'], { stdio: 'ignore' });
  if (probe.error)
    return `coturn's ${turnserverPath} cannot run (${probe.error.message}): apt-get install coturn, or set KIOSK_TURNSERVER`;
  return undefined;
}

/** Starts coturn on a free loopback UDP port; rejects with its log if it does not answer STUN. */
export async function startTurnServer(): Promise<TurnServer> {
  const missing = turnserverMissing();
  if (missing) throw new Error(missing);

  const setup: TurnSetup = {
    dir: await mkdtemp(path.join(tmpdir(), 'kiosk-turn-')),
    port: await freeUdpPort(),
    secret: randomBytes(24).toString('base64url'),
    // Relay ports of its own, away from the listening port and from other tests' ranges.
    minPort: 40_000 + Math.floor(Math.random() * 200) * 100,
  };
  let earlierOutput = '';
  let runs = 1;
  let run = spawnTurn(setup, runs);

  const turn: TurnServer = {
    url: `turn:127.0.0.1:${setup.port}?transport=udp`,
    secret: setup.secret,
    port: setup.port,
    log: () => (earlierOutput + run.output()).slice(-maxLogChars),
    kill: () => killTurn(run),
    start: async () => {
      if (!hasExited(run.child)) throw new Error('turnserver is still running');

      earlierOutput = (earlierOutput + run.output()).slice(-maxLogChars);
      runs += 1;
      run = spawnTurn(setup, runs);
      await untilReady(run, setup.port);
    },
    stop: async () => {
      await stopTurn(run);
      await rm(setup.dir, { recursive: true, force: true });
    },
  };
  try {
    await untilReady(run, setup.port);
    return turn;
  } catch (error) {
    await turn.stop();
    throw error;
  }
}

function spawnTurn(setup: TurnSetup, runNumber: number): TurnRun {
  const child = spawn(turnserverPath, coturnArgs(setup), { stdio: ['ignore', 'pipe', 'pipe'] });

  let output = `--- turnserver run ${runNumber} (pid ${child.pid ?? 'none'}) ---\n`;
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-maxLogChars);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));

  return { child, exited, output: () => output };
}

/** Waits for the run to answer STUN; rejects with its output if it does not. */
async function untilReady(run: TurnRun, port: number): Promise<void> {
  try {
    await untilStunAnswers(port, run.exited);
  } catch (error) {
    await stopTurn(run);
    throw new Error(`${(error as Error).message}\n--- turnserver output ---\n${run.output()}`, {
      cause: error,
    });
  }
}

function coturnArgs({ dir, port, secret, minPort }: TurnSetup): string[] {
  return [
    // Not the system's turnserver.conf: Debian's sends the log to syslog, where no test sees it.
    '-c',
    '/dev/null',
    // A database and pid file of its own; credentials come from the shared secret alone.
    `--userdb=${path.join(dir, 'turndb')}`,
    `--pidfile=${path.join(dir, 'turnserver.pid')}`,
    '--listening-ip=127.0.0.1',
    '--relay-ip=127.0.0.1',
    `--listening-port=${port}`,
    // Both browsers are on this machine: their relayed peers are loopback addresses.
    '--allow-loopback-peers',
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    '--realm=e2e.test',
    '--fingerprint',
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    '--no-tcp-relay',
    '--no-rfc5780',
    `--min-port=${minPort}`,
    `--max-port=${minPort + 99}`,
    '--log-file=stdout',
    '--simple-log',
    // Sessions and allocations in the log: the evidence that media really went through TURN.
    '--verbose',
  ];
}

/** A UDP port nobody uses now (bound, read and released; the race is harmless on a test box). */
function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** Sends STUN binding requests until one is answered; rejects if coturn exits or stays silent. */
async function untilStunAnswers(port: number, exited: Promise<void>): Promise<void> {
  const socket = createSocket('udp4');
  const transaction = randomBytes(12);
  // Binding request: type 0x0001, no attributes, the magic cookie, a transaction id.
  const request = Buffer.concat([
    Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]),
    transaction,
  ]);
  let timer: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;

  try {
    await new Promise<void>((resolve, reject) => {
      socket.on('message', (message) => {
        // Binding success response (0x0101) to our transaction.
        if (message.readUInt16BE(0) === 0x0101 && message.subarray(8, 20).equals(transaction))
          resolve();
      });
      socket.once('error', reject);
      void exited.then(() => reject(new Error('turnserver exited before it answered STUN')));
      timer = setTimeout(
        () => reject(new Error(`turnserver did not answer STUN within ${readyTimeoutMs} ms`)),
        readyTimeoutMs,
      );
      const send = () => socket.send(request, port, '127.0.0.1');
      send();
      retry = setInterval(send, 200);
    });
  } finally {
    clearTimeout(timer);
    clearInterval(retry);
    socket.close();
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
}

async function killTurn({ child, exited }: TurnRun): Promise<void> {
  if (hasExited(child)) return;

  child.kill('SIGKILL');
  await exited;
}

async function stopTurn({ child, exited }: TurnRun): Promise<void> {
  if (hasExited(child)) return;

  child.kill('SIGTERM');
  const late = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(late);
}
