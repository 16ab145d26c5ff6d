import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { wsPath } from '../contract/ws-protocol.js';
import { readyLine, startCliProcess, type CliProcess } from '../../test/support/cli-process.js';

const cliSource = resolve(import.meta.dirname, 'cli.ts');

type Run = CliProcess;

let folder: string;
const runs: Run[] = [];

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'kiosk-host-cli-'));
});

afterEach(async () => {
  for (const run of runs.splice(0)) {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
    await run.exited;
  }
  await rm(folder, { recursive: true, force: true });
});

function runCli(args: string[], browser = join(folder, 'no-browser')): Run {
  const run = startCliProcess({
    source: cliSource,
    args,
    cwd: folder,
    env: { KIOSK_LOG_LEVEL: 'info', KIOSK_BROWSER: browser },
  });
  runs.push(run);
  return run;
}

/** The URL the process prints once it listens. */
function hostUrl(run: Run): Promise<string> {
  return readyLine(run, 'KIOSK_HOST_URL');
}

/** The first group of the first stderr line matching `pattern`, once the process prints it. */
function stderrMatch(run: Run, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolveMatch, rejectMatch) => {
    const timer = setTimeout(
      () => rejectMatch(new Error(`no ${pattern} on stderr:\n${run.stderr()}`)),
      timeoutMs,
    );
    const check = () => {
      const found = pattern.exec(run.stderr())?.[1];
      if (found === undefined) return;

      clearTimeout(timer);
      run.child.stderr?.off('data', check);
      resolveMatch(found);
    };
    run.child.stderr?.on('data', check);
    check();
  });
}

function invokeOverWs(url: string, command: string): Promise<unknown> {
  const page = new URL(url);
  const ws = new WebSocket(`ws://${page.host}${wsPath}?token=${page.searchParams.get('token')}`, {
    headers: { Origin: page.origin },
  });

  return new Promise((resolveReply, rejectReply) => {
    const timer = setTimeout(() => rejectReply(new Error('no reply within the timeout')), 5000);
    ws.once('error', rejectReply);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'invoke', id: 1, command, input: {} })));
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as { type: string; output?: unknown };
      if (message.type !== 'result') return;

      clearTimeout(timer);
      ws.close();
      resolveReply(message.output);
    });
  });
}

describe('the kiosk host command', () => {
  it('exits 1 with a message naming the wrong field when the configuration is invalid', async () => {
    const file = join(folder, 'kiosk.json');
    await writeFile(file, JSON.stringify({ relay: { kind: 'lcus' } }));

    const run = runCli(['--config', file]);

    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('relay.port');
    expect(run.stdout()).toBe('');
  });

  it('exits 1 when the configuration file is not JSON', async () => {
    const file = join(folder, 'kiosk.json');
    await writeFile(file, '{ "site": ');

    const run = runCli(['--config', file]);

    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('not valid JSON');
  });

  it('prints exactly one URL line, serves the contract there and stops cleanly on SIGTERM', async () => {
    const file = join(folder, 'kiosk.json');
    await writeFile(file, JSON.stringify({ dataDir: 'data', relay: { kind: 'simulator' } }));
    const run = runCli(['--config', file, '--port', '0']);

    const url = await hostUrl(run);
    const view = await invokeOverWs(url, 'view:get');
    run.child.kill('SIGTERM');

    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    expect(view).toMatchObject({ screen: 'idle', demo: true });
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toBe(`KIOSK_HOST_URL=${url}\n`);
  });

  it('opens the page in a kiosk-mode browser that plays the guard’s voice without a touch', async () => {
    const file = join(folder, 'kiosk.json');
    await writeFile(file, JSON.stringify({ dataDir: 'data', relay: { kind: 'simulator' } }));
    const browser = join(folder, 'fake-browser');
    await writeFile(browser, '#!/bin/sh\necho "BROWSER_ARGS $*" >&2\n', { mode: 0o755 });
    const run = runCli(['--config', file, '--port', '0', '--open'], browser);

    const url = await hostUrl(run);
    const args = (await stderrMatch(run, /^BROWSER_ARGS (.*)$/m)).split(' ');
    run.child.kill('SIGTERM');

    expect(args).toEqual(
      expect.arrayContaining([
        '--kiosk',
        `--app=${url}`,
        '--autoplay-policy=no-user-gesture-required',
      ]),
    );
    expect(await run.exited).toBe(0);
  });

  it('refuses a port that is not a number', async () => {
    const run = runCli(['--port', 'eighty']);

    expect(await run.exited).not.toBe(0);
    expect(run.stderr()).toContain('a port is 0 to 65535');
  });
});
