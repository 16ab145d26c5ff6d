import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { kioskChannelPath } from '../app/contract/intercom-protocol.js';
import { generateSiteKeys } from '../app/core/passes.js';
import { readyLine, startCliProcess, type CliProcess } from '../test/support/cli-process.js';
import { textMatching } from './testing/matchers.js';

const cliSource = resolve(import.meta.dirname, 'cli.ts');

type Run = CliProcess;

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
  const run = startCliProcess({
    source: cliSource,
    args,
    cwd: folder,
    env: { KIOSK_LOG_LEVEL: 'warn' },
    stdin,
  });
  runs.push(run);
  return run;
}

/** Resolves once the process has written a line to stderr that `pattern` matches. */
function stderrLine(run: Run, pattern: RegExp): Promise<string> {
  return new Promise((resolveLine) => {
    const check = () => {
      const line = run
        .stderr()
        .split('\n')
        .find((candidate) => pattern.test(candidate));
      if (line === undefined) return;

      run.child.stderr?.off('data', check);
      resolveLine(line);
    };
    run.child.stderr?.on('data', check);
    check();
  });
}

/** The URL the process prints once it listens. */
function serverUrl(run: Run): Promise<string> {
  return readyLine(run, 'INTERCOM_URL');
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

  it('prints a loopback URL one can open when it listens on all interfaces, and says so', async () => {
    await writeFile(
      join(folder, 'wide.json'),
      JSON.stringify({ host: '0.0.0.0', port: 0, dataDir: 'data' }),
    );

    const server = runCli(['--config', 'wide.json']);
    const url = await serverUrl(server);

    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
    await expect(stderrLine(server, /all interfaces/)).resolves.toBe(
      "Listening on all interfaces (host 0.0.0.0): other machines reach it by this machine's own address.",
    );
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

  it('refuses a bad admin name with the rule guard names follow, creating nothing', async () => {
    const refused = runCli(
      ['admin', 'create', 'bad name', '--config', 'server.json'],
      'chief password 1\n',
    );

    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toBe(
      'intercom: bad_payload: bad name "bad name": use 1 to 64 letters, digits, dot, dash or underscore\n',
    );
    const created = runCli(
      ['admin', 'create', 'chief', '--config', 'server.json'],
      'pw long enough\n',
    );
    expect(await created.exited).toBe(0);
  });

  it('says in one line that the port is in use and exits 1', async () => {
    const holder = createServer();
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const { port } = holder.address() as AddressInfo;
    await writeFile(join(folder, 'busy.json'), JSON.stringify({ port, dataDir: 'data' }));

    try {
      const run = runCli(['--config', 'busy.json']);

      expect(await run.exited).toBe(1);
      expect(run.stderr().split('\n').slice(-2)).toEqual([
        `intercom: port_busy: port ${port} on 127.0.0.1 is in use: stop what holds it or set "port"`,
        '',
      ]);
      expect(run.stderr()).not.toMatch(/"level"|"stack"/);
    } finally {
      holder.close();
    }
  });

  it('logs an oversized frame from a connection that never said hello as one warning line', async () => {
    const server = runCli(['--config', 'server.json']);
    const url = await serverUrl(server);
    const stranger = new WebSocket(`${url.replace('http', 'ws')}${kioskChannelPath}`);
    await once(stranger, 'open');

    stranger.send('x'.repeat(1024 * 1024));
    const [code] = (await once(stranger, 'close')) as [number];
    const line = await stderrLine(server, /socket: failed/);

    expect(code).toBe(1009);
    expect(JSON.parse(line)).toMatchObject({
      level: 40,
      remote: '127.0.0.1',
      reason: textMatching(/Max payload size exceeded/),
    });
    expect(server.stderr()).not.toMatch(/"stack"|"level":50/);
  });

  it('names the wrong field of a bad configuration and exits 1', async () => {
    await writeFile(join(folder, 'bad.json'), JSON.stringify({ sessionHours: 'long' }));

    const run = runCli(['--config', 'bad.json']);

    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/sessionHours:/);
  });

  it('signs passes with the site key named relative to the configuration file’s folder', async () => {
    const keys = await generateSiteKeys();
    await mkdir(join(folder, 'conf', 'keys'), { recursive: true });
    await writeFile(join(folder, 'conf', 'keys', 'site.jwk.json'), JSON.stringify(keys.privateJwk));
    const passes = { site: 'riverside', privateKeyFile: 'keys/site.jwk.json' };
    await writeFile(
      join(folder, 'conf', 'server.json'),
      JSON.stringify({ port: 0, dataDir: 'data', passes }),
    );
    const config = ['--config', join('conf', 'server.json')];
    expect(await runCli(['admin', 'create', 'chief', ...config], 'chief password 1\n').exited).toBe(
      0,
    );

    const url = await serverUrl(runCli(config));
    const login = await fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'chief', password: 'chief password 1' }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const issued = await fetch(`${url}/api/passes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ visitorName: 'Li', hostUnit: '1-101' }),
    });

    expect(issued.status).toBe(201);
    expect(await issued.json()).toMatchObject({ token: textMatching(/^ey/) });
  });

  it('refuses to start when the pass key file cannot be read, naming it', async () => {
    const passes = { site: 'riverside', privateKeyFile: 'nowhere.jwk.json' };
    await writeFile(join(folder, 'passes.json'), JSON.stringify({ port: 0, passes }));

    const run = runCli(['--config', 'passes.json']);

    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(
      /config_invalid: passes\.privateKeyFile: cannot read .*nowhere\.jwk\.json/,
    );
  });
});
