import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const cliSource = resolve(import.meta.dirname, 'cli.ts');
// Absolute, because the CLI runs in a scratch folder where `tsx` would not resolve.
const tsxLoader = import.meta.resolve('tsx');

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

let folder: string;
const runs: Run[] = [];

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'intercom-cli-'));
  await writeFile(join(folder, 'server.json'), JSON.stringify({ port: 0, dataDir: 'data' }));
});

afterEach(async () => {
  for (const run of runs.splice(0)) {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
    await run.exited;
  }
  await rm(folder, { recursive: true, force: true });
});

function runCli(args: string[], stdin?: string): Run {
  const child = spawn(process.execPath, ['--import', tsxLoader, cliSource, ...args], {
    cwd: folder,
    env: { ...process.env, KIOSK_LOG_LEVEL: 'warn' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(stdin ?? '');
  const exited = new Promise<number | null>((resolveExit) =>
    child.once('exit', (code) => resolveExit(code)),
  );

  const run = { child, stdout: () => stdout, stderr: () => stderr, exited };
  runs.push(run);
  return run;
}

/** Resolves with the printed URL, or fails with stderr if the server exits or takes too long. */
function serverUrl(run: Run, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolveUrl, rejectUrl) => {
    const timer = setTimeout(
      () => rejectUrl(new Error(`no URL in time:\n${run.stderr()}`)),
      timeoutMs,
    );
    const check = () => {
      const url = /^INTERCOM_URL=(\S+)$/m.exec(run.stdout())?.[1];
      if (url) {
        clearTimeout(timer);
        resolveUrl(url);
      }
    };
    run.child.stdout?.on('data', check);
    void run.exited.then((code) => rejectUrl(new Error(`exited ${code}:\n${run.stderr()}`)));
  });
}

describe('intercom command line', () => {
  it('creates the first admin from stdin, who can then log in to the started server', async () => {
    const created = runCli(
      ['admin', 'create', 'chief', '--config', 'server.json'],
      'chief password 1\n',
    );
    expect(await created.exited).toBe(0);
    expect(created.stdout()).toMatch(/^admin created/);

    const server = runCli(['--config', 'server.json']);
    const url = await serverUrl(server);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const response = await fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'chief', password: 'chief password 1' }),
    });
    expect(response.status).toBe(200);
    expect(server.stdout().trim().split('\n')).toHaveLength(1);
  });

  it('refuses a second admin unless forced, reading the password from a file', async () => {
    await writeFile(join(folder, 'password.txt'), 'second password 2\n');
    expect(
      await runCli(['admin', 'create', 'chief', '--config', 'server.json'], 'chief password 1\n')
        .exited,
    ).toBe(0);

    const refused = runCli([
      'admin',
      'create',
      'deputy',
      '--config',
      'server.json',
      '--password-file',
      'password.txt',
    ]);
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toMatch(/conflict: an admin exists already; pass --force/);

    const forced = runCli([
      'admin',
      'create',
      'deputy',
      '--config',
      'server.json',
      '--password-file',
      'password.txt',
      '--force',
    ]);
    expect(await forced.exited).toBe(0);
  });

  it('names the wrong field of a bad configuration and exits 1', async () => {
    await writeFile(join(folder, 'bad.json'), JSON.stringify({ sessionHours: 'long' }));

    const run = runCli(['--config', 'bad.json']);

    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/sessionHours:/);
  });
});
