/**
 * Runs the project's services as child processes for a test: the browser host
 * (`dist/app/host/cli.js`) and the intercom server (`dist/server/cli.js`). Each prints one stdout
 * line carrying its URL when ready; its log (stderr) is kept for the test report, and it is
 * stopped with SIGTERM, then SIGKILL if it does not go in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A running service. `log()` is its stderr so far (the newest part when it is long). */
export interface ServiceProcess {
  readonly url: string;
  readonly pid: number;
  log(): string;
  stop(): Promise<void>;
  /** Ends the process at once, as a crash or power cut would: no shutdown code runs. */
  kill(): Promise<void>;
}

/** A running host. */
export type HostProcess = ServiceProcess;

/** How to start the host. */
export interface HostProcessOptions {
  cli: string;
  configFile: string;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

/** How to start any of the services. */
export interface ServiceProcessOptions {
  /** Names the service in errors and in the log's heading, e.g. `host`. */
  name: string;
  /** Arguments after `node`: the entry point first. */
  args: string[];
  /** The stdout line that carries the URL starts with this, e.g. `KIOSK_HOST_URL=`. */
  readyPrefix: string;
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

// Enough for the whole log of one test; a runaway loop must not exhaust the test runner's memory.
const maxLogChars = 500_000;

// Every service still running, killed if the test runner exits half way through a test.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts the host on a free loopback port; rejects (with its log) if it is not ready in time. */
export function startHostProcess(options: HostProcessOptions): Promise<HostProcess> {
  return startServiceProcess({
    name: 'host',
    args: [options.cli, '--config', options.configFile, '--port', '0'],
    readyPrefix: 'KIOSK_HOST_URL=',
    // The host logs at info whatever the test runner's own level: its log is a failure's best clue.
    env: { KIOSK_LOG_LEVEL: process.env.KIOSK_HOST_LOG_LEVEL ?? 'info' },
    startTimeoutMs: options.startTimeoutMs,
    stopTimeoutMs: options.stopTimeoutMs,
  });
}

/** Starts a service and waits for its URL; rejects (with its log) if it is not ready in time. */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, options.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-maxLogChars);
  });

  const service: ServiceProcess = {
    url: '',
    pid: child.pid ?? -1,
    log: () => stderr,
    stop: () => stopChild(child, exited, options.stopTimeoutMs ?? 5_000),
    kill: () => killChild(child, exited),
  };

  try {
    const url = await readyUrl(child, options, options.startTimeoutMs ?? 20_000);
    return { ...service, url };
  } catch (error) {
    await service.stop();
    throw new Error(
      `${(error as Error).message}\n--- ${options.name} stderr ---\n${stderr.slice(-20_000)}`,
      { cause: error },
    );
  }
}

/** Resolves with the URL from the ready line; rejects on exit, a spawn error or timeout. */
function readyUrl(
  child: ChildProcess,
  options: ServiceProcessOptions,
  timeoutMs: number,
): Promise<string> {
  const { name, readyPrefix } = options;
  const lines = createInterface({ input: child.stdout! });

  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`${name} printed no ${readyPrefix} line within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      finish(new Error(`${name} exited (${code ?? signal}) before it was ready`));
    const onError = (error: Error) => finish(new Error(`cannot start ${name}: ${error.message}`));

    function finish(outcome: Error | string): void {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', onError);
      lines.off('line', onLine);
      if (typeof outcome === 'string') resolve(outcome);
      else reject(outcome);
    }

    function onLine(line: string): void {
      if (line.startsWith(readyPrefix)) finish(line.slice(readyPrefix.length).trim());
    }

    lines.on('line', onLine);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function hasExited(child: ChildProcess): boolean {
  // No pid: the spawn itself failed, so there is nothing to stop (and no exit event will come).
  return child.pid === undefined || child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM, and SIGKILL if the service has not exited within `timeoutMs`. */
async function stopChild(
  child: ChildProcess,
  exited: Promise<void>,
  timeoutMs: number,
): Promise<void> {
  if (hasExited(child)) return;

  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>(
    (resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)),
  );
  const outcome = await Promise.race([exited.then(() => 'exited' as const), late]);
  clearTimeout(timer);

  if (outcome === 'late') await killChild(child, exited);
}

async function killChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (hasExited(child)) return;

  child.kill('SIGKILL');
  await exited;
}
