/**
 * A pseudo-terminal pair made by socat: a driver opens one end as if it were a USB-serial board,
 * a simulator plays the board on the other. Killing socat is how tests unplug the board; starting
 * it again on the same link paths is the replug.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KioskError } from '../../app/common/errors.js';
import { moduleLogger } from '../../app/core/log.js';

const log = moduleLogger('pty-pair');

const linkPollMs = 5;
const firstRestartDelayMs = 100;
const maxRestartDelayMs = 5_000;

/** How a pair is started. */
export interface PtyPairOptions {
  /**
   * Hold back link `a` until a process has opened `b`, as a real board is listening before its
   * port appears. Bytes written to `a` before `b` is open are lost, so a driver that reconnects by
   * itself could otherwise drive a channel off into the void. With this set, start and replug
   * resolve only once something (a simulator that reopens by itself) has opened `b`.
   */
  deviceFirst?: boolean;
  /** Give up starting or replugging after this long. */
  startTimeoutMs?: number;
  /**
   * Start socat again whenever it dies without unplug() having been asked for, retrying with
   * backoff: a demo's stand-in board must come back by itself, as a replugged board does.
   */
  restartOnExit?: boolean;
}

/** Two linked pseudo-terminals: the driver side `a` and the device side `b`. */
export interface PtyPair {
  /** Path of the driver's end (a symlink to /dev/pts/N). */
  readonly a: string;
  /** Path of the device's (simulator's) end. */
  readonly b: string;
  /** True while socat runs. */
  readonly plugged: boolean;
  /** Process id of the socat running now, if any. */
  readonly pid: number | undefined;
  /** Kills socat, as pulling the USB cable would; resolves once it has exited. */
  unplug(): Promise<void>;
  /** Starts socat again on the same link paths; resolves once both links exist. */
  replug(): Promise<void>;
  /** Unplugs and removes the folder the pair created (never a folder it was given). */
  close(): Promise<void>;
}

// Every socat still running, so that a test run that dies half way leaves none behind.
const running = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts socat on `<dir>/a` and `<dir>/b` (a fresh temporary folder when `dir` is omitted). */
export async function startPtyPair(dir?: string, options: PtyPairOptions = {}): Promise<PtyPair> {
  const ownsDir = dir === undefined;
  const folder = dir ?? (await mkdtemp(join(tmpdir(), 'kiosk-pty-')));
  const pair = new SocatPair(folder, ownsDir, options);

  try {
    await pair.replug();
  } catch (error) {
    await pair.close();
    throw error;
  }

  return pair;
}

class SocatPair implements PtyPair {
  readonly a: string;
  readonly b: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private starting: Promise<void> | undefined;
  // True from replug() to unplug(): socat exiting in between died, it was not unplugged.
  private wanted = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelayMs = firstRestartDelayMs;

  constructor(
    private readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly options: PtyPairOptions,
  ) {
    this.a = join(dir, 'a');
    this.b = join(dir, 'b');
  }

  get plugged(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  replug(): Promise<void> {
    this.wanted = true;
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async start(): Promise<void> {
    if (this.child) return;

    // A link left by a socat that died hard would point at a terminal another process may reuse.
    await removeLinks([this.a, this.b]);
    const child = spawn('socat', socatArguments(this.a, this.b, this.options), {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.track(child);

    await waitForLinks(child, [this.a, this.b], this.options.startTimeoutMs ?? 5_000);
    log.info({ a: this.a, b: this.b, pid: child.pid }, 'replug: pty pair up');
  }

  async unplug(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (!child) return;

    child.kill('SIGTERM');
    await this.exited;
    await removeLinks([this.a, this.b]);
    log.info({ a: this.a }, 'unplug: pty pair down');
  }

  async close(): Promise<void> {
    await this.unplug();
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
  }

  private track(child: ChildProcess): void {
    this.child = child;
    running.add(child);
    this.exited = new Promise((resolve) => {
      const done = (): void => {
        running.delete(child);
        if (this.child === child) this.child = undefined;
        resolve();
        if (!this.wanted) return;

        // A socat that died unasked leaves its links behind, pointing at terminal numbers the
        // system hands out again: a driver retrying its path must not open someone else's pair.
        removeLinksNow([this.a, this.b]);
        if (this.options.restartOnExit) this.scheduleRestart(child.pid);
      };
      child.once('exit', done);
      // A failed spawn (socat missing) emits error and never exit.
      child.once('error', done);
    });
  }

  private scheduleRestart(pid: number | undefined): void {
    if (this.restartTimer) return;

    log.warn({ a: this.a, pid, inMs: this.restartDelayMs }, 'restart: socat died unasked');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.wanted || this.child) return;

      this.replug().then(
        () => (this.restartDelayMs = firstRestartDelayMs),
        (error: unknown) => {
          log.warn({ a: this.a, err: error }, 'restart: socat did not come back');
          this.restartDelayMs = Math.min(this.restartDelayMs * 2, maxRestartDelayMs);
          if (this.wanted && !this.child) this.scheduleRestart(undefined);
        },
      );
    }, this.restartDelayMs);
    // A pair left open must not keep a process alive just to restart socat.
    this.restartTimer.unref();
  }
}

function socatArguments(a: string, b: string, options: PtyPairOptions): string[] {
  const driverSide = `pty,raw,echo=0,link=${a}`;
  const deviceSide = `pty,raw,echo=0,link=${b}`;
  if (!options.deviceFirst) return ['-d', '-d', driverSide, deviceSide];

  // socat opens its addresses in order, so the device side first, waiting for its slave to be
  // opened (checked every 10 ms instead of the default second), then the driver side.
  return ['-d', '-d', `${deviceSide},wait-slave,pty-interval=0.01`, driverSide];
}

async function waitForLinks(
  child: ChildProcess,
  links: string[],
  timeoutMs: number,
): Promise<void> {
  let stderr = '';
  let failure: KioskError | undefined;
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2_000);
  });
  child.once('error', (cause: NodeJS.ErrnoException) => (failure ??= spawnError(cause)));
  // `close` rather than `exit`: by then socat's last words are in `stderr`.
  child.once('close', (code: number | null) => (failure ??= exitError(code, stderr)));

  const deadline = Date.now() + timeoutMs;
  while (!(await allExist(links))) {
    if (failure) throw failure;
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new KioskError(
        'timeout',
        `socat did not create ${links.join(' and ')} in ${timeoutMs} ms`,
      );
    }

    await new Promise((resolve) => setTimeout(resolve, linkPollMs));
  }
}

async function allExist(paths: string[]): Promise<boolean> {
  const found = await Promise.all(
    paths.map((path) =>
      lstat(path).then(
        () => true,
        () => false,
      ),
    ),
  );
  return found.every(Boolean);
}

function removeLinksNow(paths: string[]): void {
  for (const path of paths) rmSync(path, { force: true });
}

async function removeLinks(paths: string[]): Promise<void> {
  await Promise.all(paths.map((path) => rm(path, { force: true })));
}

function spawnError(cause: NodeJS.ErrnoException): KioskError {
  if (cause.code === 'ENOENT') {
    return new KioskError('not_found', 'socat is not installed (Debian: apt-get install socat)', {
      cause,
    });
  }

  return new KioskError('internal', `cannot start socat: ${cause.message}`, { cause });
}

function exitError(code: number | null, stderr: string): KioskError {
  return new KioskError(
    'internal',
    `socat exited (${code ?? 'signal'}) before the pair was up: ${stderr.trim()}`,
  );
}
