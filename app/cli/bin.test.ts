import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// bin/kiosk.js is copied into a scratch package so the test controls whether dist/ exists.
const launcher = resolve(import.meta.dirname, '../../bin/kiosk.js');
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kiosk-bin-'));
  mkdirSync(join(root, 'bin'));
  copyFileSync(launcher, join(root, 'bin', 'kiosk.js'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function launch(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.KIOSK_LOG_LEVEL;

  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(root, 'bin', 'kiosk.js'), ...args],
      { env, timeout: 10_000 },
      (error, stdout, stderr) => {
        done({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

describe('bin/kiosk.js', () => {
  it('asks for a build when dist is missing, exit 1', async () => {
    const result = await launch('pass', 'keygen');

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/run `npm run build` first/);
  });

  it("passes the arguments to runCli, silences the core's logs and exits with its code", async () => {
    const cli = join(root, 'dist', 'app', 'cli');
    mkdirSync(cli, { recursive: true });
    writeFileSync(
      join(cli, 'index.js'),
      'export async function runCli(argv, io) { io.out(JSON.stringify({ argv, level: process.env.KIOSK_LOG_LEVEL })); io.err("note"); return 3; }\n',
    );

    const result = await launch('pass', 'verify', '--site', 'a b');

    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toEqual({
      argv: ['pass', 'verify', '--site', 'a b'],
      level: 'silent',
    });
    expect(result.stderr).toBe('note\n');
  });
});
