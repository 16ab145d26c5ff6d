/**
 * Runs the browser host (`dist/app/host/cli.js`) as a child process for a test: waits for the one
 * stdout line that carries its URL, keeps its log (stderr) for the test report, and stops it with
 * SIGTERM, then SIGKILL if it does not go in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A running host. `log()` is its stderr so far (the newest part when it is long). */
export interface HostProcess {
  readonly url: string;
  readonly pid: number;
  log(): string;
  stop(): Promise<void>;
}

/** How to start the host. */
export interface HostProcessOptions {
  cli: string;
  configFile: string;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

const readyPrefix = 'KIOSK_HOST_URL=';
// Enough for the whole log of one test; a runaway loop must not exhaust the test runner's memory.
const maxLogChars = 500_000;

// Every host still running, killed if the test runner exits half way through a test.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts the host on a free loopback port; rejects (with its log) if it is not ready in time. */
export async function startHostProcess(options: HostProcessOptions): Promise<HostProcess> {
  const child = spawn(
    process.execPath,
    [options.cli, '--config', options.configFile, '--port', '0'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      // The host logs at info whatever the test runner's own level: its log is a failure's best clue.
      env: { ...process.env, KIOSK_LOG_LEVEL: process.env.KIOSK_HOST_LOG_LEVEL ?? 'info' },
    },
  );
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-maxLogChars);
  });

  const host: HostProcess = {
    url: '',
    pid: child.pid ?? -1,
    log: () => stderr,
    stop: () => stopChild(child, exited, options.stopTimeoutMs ?? 5_000),
  };

  try {
    const url = await readyUrl(child, options.startTimeoutMs ?? 20_000);
    return { ...host, url };
  } catch (error) {
    await host.stop();
    throw new Error(`${(error as Error).message}\n--- host stderr ---\n${stderr.slice(-20_000)}`, {
      cause: error,
    });
  }
}

/** Resolves with the URL from the host's ready line; rejects on exit, a spawn error or timeout. */
function readyUrl(child: ChildProcess, timeoutMs: number): Promise<string> {
  const lines = createInterface({ input: child.stdout! });

  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`host printed no ${readyPrefix} line within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      finish(new Error(`host exited (${code ?? signal}) before it was ready`));
    const onError = (error: Error) => finish(new Error(`cannot start the host: ${error.message}`));

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

/** SIGTERM, and SIGKILL if the host has not exited within `timeoutMs`. */
async function stopChild(
  child: ChildProcess,
  exited: Promise<void>,
  timeoutMs: number,
): Promise<void> {
  // No pid: the spawn itself failed, so there is nothing to stop (and no exit event will come).
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;

  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>(
    (resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)),
  );
  const outcome = await Promise.race([exited.then(() => 'exited' as const), late]);
  clearTimeout(timer);

  if (outcome === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
}
