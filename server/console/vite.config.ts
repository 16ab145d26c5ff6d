/**
 * Builds the guard console into dist/server/console, which the intercom server serves at `/`.
 * Asset URLs are relative, so the console also works behind a reverse proxy under a sub-path;
 * everything loads from the server itself, since its CSP allows scripts from 'self' only.
 */
import { defineConfig } from 'vite';

const consoleDir = import.meta.dirname;

export default defineConfig({
  root: consoleDir,
  base: './',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    // Relative to root: <repo>/dist/server/console.
    outDir: '../../dist/server/console',
    emptyOutDir: true,
    // Never data: URLs for scripts or styles: the CSP's 'self' must cover every file.
    assetsInlineLimit: 0,
    sourcemap: true,
    reportCompressedSize: false,
  },
});
