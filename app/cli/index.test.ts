import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './index.js';

interface Run {
  code: number;
  out: string[];
  err: string[];
}

async function run(...argv: string[]): Promise<Run> {
  const result: Run = { code: -1, out: [], err: [] };
  result.code = await runCli(argv, {
    out: (line) => result.out.push(line),
    err: (line) => result.err.push(line),
  });
  return result;
}

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiosk-cli-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const privateKey = () => join(dir, 'site-private.jwk.json');
const publicKey = () => join(dir, 'site-public.jwk.json');
const site = ['--site', 'north-park'];

async function keygen(): Promise<Run> {
  const result = await run('pass', 'keygen', '--out', dir);
  expect(result.code).toBe(0);
  return result;
}

async function issue(...extra: string[]): Promise<string> {
  const result = await run(
    'pass',
    'issue',
    '--key',
    privateKey(),
    ...site,
    '--gate',
    'main-gate',
    ...extra,
  );
  expect(result.err.join('\n')).not.toMatch(/error/);
  expect(result.code).toBe(0);
  return result.out[0];
}

function verdictOf(result: Run): Record<string, unknown> {
  return JSON.parse(result.out[0]) as Record<string, unknown>;
}

describe('kiosk pass keygen', () => {
  it('writes a private key only its owner can read and prints the public key', async () => {
    const result = await keygen();

    const printed = JSON.parse(result.out[0]) as Record<string, unknown>;
    const saved = JSON.parse(readFileSync(publicKey(), 'utf8')) as Record<string, unknown>;
    expect(printed).toEqual(saved);
    expect(printed).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(printed.d).toBeUndefined();
    expect(statSync(privateKey()).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(privateKey(), 'utf8'))).toHaveProperty('d');
  });

  it('refuses to overwrite an existing key pair without --force', async () => {
    await keygen();
    const before = readFileSync(privateKey(), 'utf8');

    const refused = await run('pass', 'keygen', '--out', dir);
    const forced = await run('pass', 'keygen', '--out', dir, '--force');

    expect(refused.code).toBe(2);
    expect(refused.err.join('\n')).toMatch(/already exists/);
    expect(forced.code).toBe(0);
    expect(readFileSync(privateKey(), 'utf8')).not.toBe(before);
  });

  it('requires --out', async () => {
    const result = await run('pass', 'keygen');

    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toMatch(/--out/);
  });
});

describe('kiosk pass issue and verify', () => {
  it('round-trips: a pass issued with the private key verifies with the public key', async () => {
    await keygen();
    const text = await issue(
      '--hours',
      '2',
      '--entries',
      '3',
      '--unit',
      '3-1102',
      '--name',
      '王小明',
    );

    const result = await run(
      'pass',
      'verify',
      text,
      '--keys',
      publicKey(),
      ...site,
      '--gate',
      'main-gate',
      '--uses',
      '1',
    );

    expect(result.code).toBe(0);
    expect(verdictOf(result)).toMatchObject({
      ok: true,
      entriesLeft: 2,
      pass: { hostUnit: '3-1102', maskedName: '王**', entries: 3 },
    });
  });

  it('issues a pass for several gates within the given window', async () => {
    await keygen();
    const text = await issue(
      '--gate',
      'east-gate',
      '--from',
      '2030-01-01T08:00Z',
      '--until',
      '2030-01-01T18:00Z',
      '--id',
      'visit-42',
    );

    const payload = JSON.parse(Buffer.from(text.split('.')[1], 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(payload).toMatchObject({
      jti: 'visit-42',
      gates: ['main-gate', 'east-gate'],
      nbf: Date.UTC(2030, 0, 1, 8) / 1000,
      exp: Date.UTC(2030, 0, 1, 18) / 1000,
    });
  });

  it('reports a refusal as JSON and exits 1', async () => {
    await keygen();
    const text = await issue('--from', '2030-01-01T08:00Z', '--hours', '1');

    const early = await run(
      'pass',
      'verify',
      text,
      '--keys',
      publicKey(),
      ...site,
      '--gate',
      'main-gate',
    );
    const elsewhere = await run(
      'pass',
      'verify',
      text,
      '--keys',
      publicKey(),
      ...site,
      '--gate',
      'back-gate',
      '--at',
      '2030-01-01T08:30Z',
    );

    expect(early.code).toBe(1);
    expect(verdictOf(early)).toMatchObject({ ok: false, reason: 'not_yet_valid' });
    expect(verdictOf(elsewhere)).toMatchObject({ ok: false, reason: 'wrong_gate' });
  });

  it('reads the pass from a file, scanner newline included', async () => {
    await keygen();
    const passFile = join(dir, 'pass.txt');
    writeFileSync(passFile, `${await issue('--hours', '1')}\n`);

    const result = await run(
      'pass',
      'verify',
      '--file',
      passFile,
      '--keys',
      publicKey(),
      ...site,
      '--gate',
      'main-gate',
    );

    expect(result.code).toBe(0);
  });

  it('accepts the keys from a kiosk configuration file', async () => {
    await keygen();
    const config = join(dir, 'kiosk.json');
    writeFileSync(
      config,
      JSON.stringify({
        site: 'north-park',
        passes: { publicKeys: [JSON.parse(readFileSync(publicKey(), 'utf8'))] },
      }),
    );

    const result = await run(
      'pass',
      'verify',
      await issue('--hours', '1'),
      '--keys',
      config,
      ...site,
      '--gate',
      'main-gate',
    );

    expect(result.code).toBe(0);
  });

  it('calls a pass signed by another site key forged', async () => {
    await keygen();
    const text = await issue('--hours', '1');
    const otherDir = join(dir, 'other');
    await run('pass', 'keygen', '--out', otherDir);

    const result = await run(
      'pass',
      'verify',
      text,
      '--keys',
      join(otherDir, 'site-public.jwk.json'),
      ...site,
      '--gate',
      'main-gate',
    );

    expect(result.code).toBe(1);
    expect(verdictOf(result)).toMatchObject({ ok: false, reason: 'forged' });
  });

  it('writes a PNG QR code with --qr', async () => {
    await keygen();
    const png = join(dir, 'pass.png');

    await issue('--hours', '1', '--qr', png);

    expect(readFileSync(png).subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
  });

  it('says plainly when the QR file cannot be written, without a stack trace', async () => {
    await keygen();
    const png = join(dir, 'no-such-folder', 'pass.png');

    const result = await run(
      'pass',
      'issue',
      '--key',
      privateKey(),
      ...site,
      '--gate',
      'g',
      '--hours',
      '1',
      '--qr',
      png,
    );

    expect(result.code).toBe(1);
    expect(result.err.join('\n')).toContain(`cannot write the QR code to ${png} (ENOENT)`);
    expect(result.err.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('warns when the pass it issued has already expired', async () => {
    await keygen();

    const result = await run(
      'pass',
      'issue',
      '--key',
      privateKey(),
      ...site,
      '--gate',
      'g',
      '--from',
      '2020-01-01T08:00',
      '--hours',
      '4',
    );

    expect(result.code).toBe(0);
    expect(result.err).toContain('warning: this pass has already expired');
  });
});

describe('kiosk decode with the real decoder', () => {
  it('reads back the pass from the QR code that pass issue wrote', async () => {
    await keygen();
    const png = join(dir, 'pass.png');
    const text = await issue('--hours', '1', '--qr', png);

    const decoded = await run('decode', png);
    const line = JSON.parse(decoded.out[0]) as { text: string; bytesHex: string };
    const verified = await run(
      'pass',
      'verify',
      line.text,
      '--keys',
      publicKey(),
      ...site,
      '--gate',
      'main-gate',
    );

    expect(decoded.code).toBe(0);
    expect(line.text).toBe(text);
    expect(line.bytesHex).toBe(Buffer.from(text).toString('hex'));
    expect(verified.code).toBe(0);
  });

  it('reports a file that is not an image as an error line and exits 1', async () => {
    const notImage = join(dir, 'notes.png');
    writeFileSync(notImage, 'not a picture');

    const result = await run('decode', notImage);

    expect(result.code).toBe(1);
    expect(JSON.parse(result.out[0])).toMatchObject({
      file: notImage,
      error: expect.any(String) as string,
    });
  });
});

describe('bad arguments', () => {
  it('refuses a date that is not in the calendar, exit 2 and no stack trace', async () => {
    await keygen();

    const result = await run(
      'pass',
      'issue',
      '--key',
      privateKey(),
      ...site,
      '--gate',
      'g',
      '--until',
      '2030-02-30T10:00',
    );

    expect(result.code).toBe(2);
    expect(result.out).toEqual([]);
    expect(result.err.join('\n')).toMatch(/--until.*not a calendar date/s);
    expect(result.err.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('refuses a date without a time and words that are not dates', async () => {
    await keygen();

    for (const until of ['2030-06-01', 'tomorrow', '2030-06-01T25:00']) {
      const result = await run(
        'pass',
        'issue',
        '--key',
        privateKey(),
        ...site,
        '--gate',
        'g',
        '--until',
        until,
      );
      expect(result.code).toBe(2);
      expect(result.err.join('\n')).toMatch(/--until/);
    }
  });

  it('refuses a window that ends before it starts, or gives both or neither end', async () => {
    await keygen();
    const base = ['pass', 'issue', '--key', privateKey(), ...site, '--gate', 'g'];

    const backwards = await run(
      ...base,
      '--from',
      '2030-01-02T00:00Z',
      '--until',
      '2030-01-01T00:00Z',
    );
    const both = await run(...base, '--until', '2030-01-01T00:00Z', '--hours', '2');
    const neither = await run(...base);

    expect([backwards.code, both.code, neither.code]).toEqual([2, 2, 2]);
    expect(backwards.err.join('\n')).toMatch(/end after it starts/);
    expect(neither.err.join('\n')).toMatch(/--until and --hours/);
  });

  it('refuses a missing key file and a public key given as the signing key', async () => {
    await keygen();

    const missing = await run(
      'pass',
      'issue',
      '--key',
      join(dir, 'nope.json'),
      ...site,
      '--gate',
      'g',
      '--hours',
      '1',
    );
    const publicOnly = await run(
      'pass',
      'issue',
      '--key',
      publicKey(),
      ...site,
      '--gate',
      'g',
      '--hours',
      '1',
    );

    expect(missing.code).toBe(2);
    expect(missing.err.join('\n')).toMatch(/ENOENT/);
    expect(publicOnly.code).toBe(2);
    expect(publicOnly.err.join('\n')).toMatch(/not a private key/);
  });

  it('refuses bad numbers and a QR file that is not PNG', async () => {
    await keygen();
    const base = ['pass', 'issue', '--key', privateKey(), ...site, '--gate', 'g'];

    for (const extra of [
      ['--hours', '-1'],
      ['--hours', '1', '--entries', '0'],
      ['--hours', '1', '--entries', '2.5'],
      ['--hours', '1', '--qr', 'x.jpg'],
    ]) {
      const result = await run(...base, ...extra);
      expect(result.code, extra.join(' ')).toBe(2);
    }
  });

  it('refuses verify with neither text nor --file, or with unreadable keys', async () => {
    await keygen();
    writeFileSync(join(dir, 'empty.json'), '{}');

    const noText = await run('pass', 'verify', '--keys', publicKey(), ...site, '--gate', 'g');
    const noKeys = await run(
      'pass',
      'verify',
      'a.b.c',
      '--keys',
      join(dir, 'empty.json'),
      ...site,
      '--gate',
      'g',
    );

    expect(noText.code).toBe(2);
    expect(noKeys.code).toBe(2);
    expect(noKeys.err.join('\n')).toMatch(/holds no keys/);
  });

  it('refuses an unknown command or option with exit 2', async () => {
    expect((await run('pass', 'frobnicate')).code).toBe(2);
    expect((await run('pass', 'keygen', '--out', dir, '--colour')).code).toBe(2);
    expect((await run()).code).toBe(2);
  });

  it('prints help with exit 0', async () => {
    const result = await run('pass', 'issue', '--help');

    expect(result.code).toBe(0);
    expect(result.out.join('\n')).toMatch(/--until <time>/);
    expect(result.out.join('\n')).toMatch(/--qr <file.png>/);
  });
});
