/**
 * The real Electron shell: launches the built app on a demo configuration and checks the page
 * reaches its idle screen with the bridge in place and no Node in reach. Skips with the fix when
 * the Electron binary was not downloaded (CI installs with ELECTRON_SKIP_BINARY_DOWNLOAD=1).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  _electron as electron,
  expect,
  test,
  type ElectronApplication,
  type Page,
} from '@playwright/test';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What `electron .` needs from `npm run build`. */
const builtFiles = [
  'dist/app/main/index.js',
  'dist/app/preload/index.cjs',
  'dist/renderer/index.html',
];

/** The Electron executable, or undefined when the package is installed without its binary. */
function electronBinary(): string | undefined {
  try {
    const binary: unknown = createRequire(import.meta.url)('electron');
    return typeof binary === 'string' && existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

const binary = electronBinary();

test.describe('the Electron kiosk shell', () => {
  test.skip(
    !binary,
    'Electron binary not installed: set ELECTRON_SKIP_BINARY_DOWNLOAD=0 and reinstall to run',
  );

  let workDir: string;
  let kiosk: ElectronApplication;
  let page: Page;
  const output: string[] = [];

  test.beforeAll(async () => {
    const missing = builtFiles.filter((file) => !existsSync(path.join(repoRoot, file)));
    expect(missing, 'run `npm run build` before the Electron test').toEqual([]);

    workDir = mkdtempSync(path.join(tmpdir(), 'kiosk-electron-'));
    const configFile = path.join(workDir, 'kiosk.json');
    writeFileSync(
      configFile,
      JSON.stringify({ dataDir: path.join(workDir, 'data'), defaultLocale: 'en' }),
    );

    // Chromium refuses to start as root with its OS sandbox; the page's own sandbox stays on.
    const rootOnly = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
    kiosk = await electron.launch({
      executablePath: binary,
      args: [...rootOnly, repoRoot, '--config', configFile],
      cwd: repoRoot,
      env: { ...process.env, KIOSK_DEV: '0' },
      timeout: 30_000,
    });
    kiosk.process().stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    kiosk.process().stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));

    page = await kiosk.firstWindow();
  });

  test.afterAll(async () => {
    await kiosk?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  // Playwright reads the fixtures a hook needs from its first parameter; this one needs none.
  // eslint-disable-next-line no-empty-pattern
  test.afterEach(async ({}, testInfo) => {
    if (testInfo.status === testInfo.expectedStatus) return;

    await testInfo.attach('electron-output', { body: output.join(''), contentType: 'text/plain' });
    if (page && !page.isClosed()) {
      await testInfo.attach('screen', { body: await page.screenshot(), contentType: 'image/png' });
    }
  });

  test('reaches the idle screen from the app origin', async () => {
    await expect(page.locator('[data-screen="idle"]')).toBeVisible({ timeout: 30_000 });

    expect(page.url()).toMatch(/^app:\/\/kiosk\//);
  });

  test('gives the page window.kiosk and neither require nor process', async () => {
    const globals = await page.evaluate(() => ({
      kiosk: typeof (globalThis as { kiosk?: unknown }).kiosk,
      require: typeof (globalThis as { require?: unknown }).require,
      process: typeof (globalThis as { process?: unknown }).process,
      ipcRenderer: typeof (globalThis as { ipcRenderer?: unknown }).ipcRenderer,
    }));

    expect(globals).toEqual({
      kiosk: 'object',
      require: 'undefined',
      process: 'undefined',
      ipcRenderer: 'undefined',
    });
  });

  test('answers a contract command through the bridge and refuses a bad payload', async () => {
    const answers = await page.evaluate(async () => {
      const api = (
        globalThis as { kiosk?: { invoke(command: string, input: unknown): Promise<unknown> } }
      ).kiosk;
      const view = (await api?.invoke('view:get', {})) as
        { screen: string; demo: boolean } | undefined;
      const refusal = await api?.invoke('visitor:setLocale', { locale: 'xx' }).then(
        () => 'accepted',
        (error: Error) => error.message,
      );
      return { screen: view?.screen, demo: view?.demo, refusal };
    });

    expect(answers.screen).toBe('idle');
    expect(answers.demo).toBe(true);
    expect(answers.refusal).toMatch(/locale/);
  });

  test('opens no new window and cannot navigate away', async () => {
    const opened = await page.evaluate(() => {
      const open = (globalThis as { open?: (url: string) => unknown }).open;
      return open?.('https://example.com/') ?? null;
    });
    await page.evaluate(() => {
      (globalThis as unknown as { location: { href: string } }).location.href =
        'https://example.com/';
    });
    await expect(page.locator('[data-screen="idle"]')).toBeVisible();

    expect(opened).toBeNull();
    expect(kiosk.windows()).toHaveLength(1);
    expect(page.url()).toMatch(/^app:\/\/kiosk\//);
  });
});
