import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConsoleDir } from './console-files.js';
import { makeServer, type TestServer } from './testing/fixtures.js';

let server: TestServer | undefined;
let folder: string | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
  if (folder) await rm(folder, { recursive: true, force: true });
  folder = undefined;
});

/** A built console in a scratch folder, with a secret file beside it that must never be served. */
async function serveConsole(): Promise<void> {
  folder = await mkdtemp(join(tmpdir(), 'intercom-console-'));
  const consoleDir = join(folder, 'console');
  await mkdir(join(consoleDir, 'assets'), { recursive: true });
  await writeFile(join(consoleDir, 'index.html'), '<!doctype html><title>Guard console</title>');
  await writeFile(join(consoleDir, 'assets', 'main-abc123.js'), 'console.log(1)');
  await writeFile(join(consoleDir, 'assets', 'main-abc123.css'), 'body{}');
  await writeFile(join(consoleDir, '.env'), 'SECRET=1');
  await writeFile(join(folder, 'secret.txt'), 'top secret');
  server = await makeServer({}, { consoleDir });
}

function get(url: string, accept = 'text/html,*/*') {
  return server?.app.inject({
    method: 'GET',
    url,
    headers: { accept, host: 'guards.example:8780' },
  });
}

describe('guard console files', () => {
  it('serves index.html at / under a strict content security policy', async () => {
    await serveConsole();

    const page = await get('/');

    expect(page?.statusCode).toBe(200);
    expect(page?.body).toContain('Guard console');
    expect(page?.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page?.headers['x-content-type-options']).toBe('nosniff');
    expect(page?.headers['x-frame-options']).toBe('DENY');
    const policy = String(page?.headers['content-security-policy']).split('; ');
    expect(policy).toEqual(
      expect.arrayContaining([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self' ws://guards.example:8780 wss://guards.example:8780",
        "object-src 'none'",
        "frame-ancestors 'none'",
      ]),
    );
  });

  it('serves the built assets with their content types', async () => {
    await serveConsole();

    const script = await get('/assets/main-abc123.js', '*/*');
    const style = await get('/assets/main-abc123.css', 'text/css,*/*;q=0.1');

    expect([script?.statusCode, script?.headers['content-type'], script?.body]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'console.log(1)',
    ]);
    expect(style?.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('answers a page path the console routes itself with index.html, a missing asset with 404', async () => {
    await serveConsole();

    const reload = await get('/calls/history?tab=missed');
    const missingAsset = await get('/assets/gone.js', '*/*');

    expect([reload?.statusCode, reload?.body]).toEqual([
      200,
      '<!doctype html><title>Guard console</title>',
    ]);
    expect(missingAsset?.statusCode).toBe(404);
    expect(missingAsset?.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('serves index.html at / to a client that does not ask for HTML, such as curl', async () => {
    await serveConsole();

    const curl = await get('/', '*/*');
    const bare = await server?.app.inject({ method: 'GET', url: '/?probe=1' });

    for (const response of [curl, bare]) {
      expect([response?.statusCode, response?.body]).toEqual([
        200,
        '<!doctype html><title>Guard console</title>',
      ]);
      expect(response?.headers['content-security-policy']).toContain("default-src 'self'");
    }
  });

  it('keeps JSON 404s for the API, even for a browser asking for HTML', async () => {
    await serveConsole();

    const response = await get('/api/nothing-here');

    expect(response?.statusCode).toBe(404);
    expect(response?.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('never serves a file outside the console folder, nor a dot file', async () => {
    await serveConsole();

    for (const url of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/.env',
      '/%2eenv',
      '/assets/%00.js',
      '/%E0%A4%A',
    ]) {
      const response = await get(url, '*/*');
      // Fastify itself answers 400 to a path that is not valid percent-encoding.
      expect([url, response?.statusCode]).toEqual([url, url === '/%E0%A4%A' ? 400 : 404]);
      expect(response?.body).not.toContain('top secret');
      expect(response?.body).not.toContain('SECRET=1');
    }
  });

  it('says to run the build when the console is not built', async () => {
    folder = await mkdtemp(join(tmpdir(), 'intercom-console-'));
    server = await makeServer({}, { consoleDir: join(folder, 'not-built') });

    const response = await get('/');

    expect(response?.statusCode).toBe(503);
    expect(response?.body).toMatch(/run npm run build/);
  });

  it('looks for the build in dist/server/console of the checkout', () => {
    expect(defaultConsoleDir().endsWith(['', 'dist', 'server', 'console'].join(sep))).toBe(true);
    expect(defaultConsoleDir()).not.toContain(`${sep}dist${sep}dist${sep}`);
  });
});
