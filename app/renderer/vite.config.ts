/**
 * Builds the kiosk page into dist/renderer. Everything the page loads (scripts, the QR worker, the
 * decoder's wasm, styles) is emitted beside index.html: the page's CSP allows nothing else, and a
 * kiosk may have no internet.
 */
import { defineConfig } from 'vite';

const rendererDir = import.meta.dirname;

export default defineConfig({
  root: rendererDir,
  // Relative URLs, so the same build works from Electron's app:// scheme and the loopback host.
  base: './',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  worker: { format: 'es' },
  build: {
    // Relative to root: <repo>/dist/renderer.
    outDir: '../../dist/renderer',
    emptyOutDir: true,
    // Electron 41 and any kiosk-mode Chromium from 120 on.
    target: 'chrome120',
    // Never data: URLs: fonts and wasm must be files the CSP's 'self' covers.
    assetsInlineLimit: 0,
    sourcemap: true,
    reportCompressedSize: false,
  },
});
