/**
 * What every transport that serves the renderer agrees on: the content security policy and the
 * content type of each built file. Electron's app scheme and the browser host both use it, so
 * the page runs under the same rules whichever shell carries it.
 */
import { extname } from 'node:path';

/**
 * The strict policy for the kiosk page. `wasm-unsafe-eval` lets the QR decoder compile its
 * bundled WebAssembly; `extraConnect` names the one extra endpoint a transport needs (the browser
 * host's loopback WebSocket).
 */
export function rendererContentSecurityPolicy(extraConnect: string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    ["connect-src 'self'", ...extraConnect].join(' '),
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
  '.txt': 'text/plain; charset=utf-8',
};

/** The Content-Type of a built renderer file; unknown kinds are sent as opaque bytes. */
export function contentTypeFor(file: string): string {
  return contentTypes[extname(file).toLowerCase()] ?? 'application/octet-stream';
}
