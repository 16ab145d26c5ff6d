/**
 * The real intercom server for end-to-end tests and benchmarks: `dist/server/cli.js` as a child
 * process on a scratch data folder, its first admin made with the command line as an installer
 * would, then guards, ring groups and kiosks set up through the HTTP API as an admin's browser
 * would. The server can be killed and started again on the same port and data folder.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WebSocket } from 'ws';
import { startServiceProcess, type ServiceProcess } from './host-process.js';
import { intercomCli } from './paths.js';

/** The admin every test server starts with. */
export const adminName = 'site-admin';
export const adminPassword = 'admin password for e2e';

/** A guard's name and password. */
export interface Credentials {
  name: string;
  password: string;
}

/** How to start the server. */
export interface IntercomServerOptions {
  /** A scratch folder of the test's own: the config file, data and password files go here. */
  dir: string;
  /** Server configuration merged over the test defaults (one level deep for objects). */
  config?: Record<string, unknown>;
  /** The server's log level; INTERCOM_LOG_LEVEL or info when omitted. */
  logLevel?: string;
}

/** A running intercom server (or one between kill() and start()). */
export interface IntercomServer {
  /** http://127.0.0.1:PORT; the port stays the same across restarts. */
  readonly url: string;
  /** ws://127.0.0.1:PORT/kiosk, for kiosk configurations. */
  readonly kioskChannelUrl: string;
  readonly pid: number;
  /** The server's stderr across every run, each run headed by a marker line. */
  log(): string;
  /** Ends the process at once (SIGKILL), as a crash or power cut would. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data folder after kill() or stop(). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Test defaults: loopback, a port the OS picks, quick heartbeats so a dead kiosk shows soon. */
function serverConfig(overrides: Record<string, unknown>): Record<string, unknown> {
  const defaults: Record<string, unknown> = {
    host: '127.0.0.1',
    port: 0,
    dataDir: 'data',
    kiosks: { heartbeatSeconds: 2 },
  };
  for (const [key, value] of Object.entries(overrides)) {
    const base = defaults[key];
    defaults[key] = isRecord(base) && isRecord(value) ? { ...base, ...value } : value;
  }
  return defaults;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Creates the admin with the command line, then starts the server; rejects with its log. */
export async function startIntercomServer(options: IntercomServerOptions): Promise<IntercomServer> {
  await mkdir(options.dir, { recursive: true });
  const configFile = path.join(options.dir, 'intercom.json');
  const config = serverConfig(options.config ?? {});
  await writeFile(configFile, JSON.stringify(config, null, 2));
  await createAdmin(options.dir, configFile);

  let earlierLogs = '';
  const logLevel = options.logLevel ?? process.env.INTERCOM_LOG_LEVEL ?? 'info';
  let run: ServiceProcess = await startRun(configFile, logLevel, 1);
  const url = run.url;
  // A restart must come back where the kiosks look for it: pin the port the OS chose.
  await writeFile(
    configFile,
    JSON.stringify({ ...config, port: Number(new URL(url).port) }, null, 2),
  );
  let runs = 1;

  return {
    url,
    kioskChannelUrl: `${url.replace(/^http/, 'ws')}/kiosk`,
    get pid() {
      return run.pid;
    },
    log: () => earlierLogs + run.log(),
    kill: () => run.kill(),
    stop: () => run.stop(),
    start: async () => {
      earlierLogs += run.log();
      runs += 1;
      run = await startRun(configFile, logLevel, runs);
      if (run.url !== url) throw new Error(`the server came back on ${run.url}, not ${url}`);
    },
  };
}

async function startRun(
  configFile: string,
  logLevel: string,
  run: number,
): Promise<ServiceProcess> {
  const service = await startServiceProcess({
    name: 'intercom server',
    args: [intercomCli, '--config', configFile],
    readyPrefix: 'INTERCOM_URL=',
    env: { KIOSK_LOG_LEVEL: logLevel },
  });
  const marker = `--- intercom server run ${run} (pid ${service.pid}) ---\n`;
  return { ...service, log: () => marker + service.log() };
}

/** `intercom admin create` with the password in a file, as an installer script would run it. */
async function createAdmin(dir: string, configFile: string): Promise<void> {
  const passwordFile = path.join(dir, 'admin-password');
  await writeFile(passwordFile, `${adminPassword}\n`, { mode: 0o600 });

  const child = spawn(
    process.execPath,
    [
      intercomCli,
      'admin',
      'create',
      adminName,
      '--config',
      configFile,
      '--password-file',
      passwordFile,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KIOSK_LOG_LEVEL: 'warn' } },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));

  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`admin create exited with ${code}:\n${output}`);
}

/** A logged-in session on the server's HTTP API. */
export class IntercomApi {
  private constructor(
    readonly baseUrl: string,
    /** The Cookie header value of the session. */
    readonly cookie: string,
  ) {}

  /** Logs in as `credentials` (the admin when omitted). */
  static async login(baseUrl: string, credentials?: Credentials): Promise<IntercomApi> {
    const { name, password } = credentials ?? { name: adminName, password: adminPassword };
    const response = await fetch(`${baseUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
    if (response.status !== 200)
      throw new Error(`login of ${name} failed: ${response.status} ${await response.text()}`);

    const session = response.headers.getSetCookie().find((line) => line.includes('='));
    if (!session) throw new Error(`login of ${name} set no session cookie`);
    return new IntercomApi(baseUrl, session.split(';', 1)[0]);
  }

  /** Creates a guard and returns its id. */
  async createGuard(credentials: Credentials, role: 'guard' | 'admin' = 'guard'): Promise<number> {
    const body = await this.send<{ guard: { id: number } }>('POST', '/api/guards', {
      ...credentials,
      role,
    });
    return body.guard.id;
  }

  /** Saves a ring group of the guards with these ids. */
  async saveRingGroup(id: string, guardIds: number[]): Promise<void> {
    await this.send('POST', '/api/ring-groups', { id, name: `Ring group ${id}`, guardIds });
  }

  /** Enrols a kiosk in a ring group and returns the secret it authenticates with. */
  async enrolKiosk(id: string, name: string, ringGroup: string | null): Promise<string> {
    const body = await this.send<{ secret: string }>('POST', '/api/kiosks', {
      id,
      name,
      ringGroup,
    });
    return body.secret;
  }

  /** GET of a JSON route, e.g. `/api/calls?limit=20`. */
  get<T>(route: string): Promise<T> {
    return this.send<T>('GET', route);
  }

  private async send<T>(method: string, route: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${route}`, {
      method,
      headers: {
        cookie: this.cookie,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);

    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** A guard channel WebSocket driven by hand, as a console would but without its checks. */
export interface GuardChannelClient {
  send(message: Record<string, unknown>): void;
  /** The first message (already received or still to come) that `match` accepts. */
  waitFor(
    match: (message: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  close(): void;
}

/** Opens `/guard` with the session of `api`, from the console's own origin, after its welcome. */
export async function openGuardChannel(api: IntercomApi): Promise<GuardChannelClient> {
  const socket = new WebSocket(`${api.baseUrl.replace(/^http/, 'ws')}/guard`, {
    headers: { cookie: api.cookie },
    origin: api.baseUrl,
  });
  const received: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  socket.on('message', (data: Buffer) => {
    received.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    for (const listener of [...listeners]) listener();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });

  const client: GuardChannelClient = {
    send: (message) => socket.send(JSON.stringify(message)),
    waitFor: (match, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(match);
          if (!found) return;

          clearTimeout(timer);
          listeners.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `no matching guard message within ${timeoutMs} ms: ${JSON.stringify(received)}`,
            ),
          );
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    close: () => socket.close(),
  };
  await client.waitFor((message) => message.type === 'welcome');
  return client;
}
