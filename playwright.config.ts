/**
 * End-to-end tests: the browser host and its devices on pseudo-terminals, driven through the
 * system Chromium with a fake camera. One worker: each test runs a host, socat and a browser, and
 * the CI machine has two cores.
 */
import { defineConfig } from '@playwright/test';
import { chromiumPath } from './e2e/support/browser.js';

// Core modules the tests import (passes, store, pty pairs) log through pino: keep the runner's own
// output to warnings. The host under test logs at KIOSK_HOST_LOG_LEVEL (info) into each report.
process.env.KIOSK_LOG_LEVEL ??= 'warn';

export default defineConfig({
  testDir: 'e2e',
  globalSetup: './e2e/global-setup.ts',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  forbidOnly: true,
  outputDir: 'test-results',
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: chromiumPath },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
  },
});
