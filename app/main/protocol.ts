/**
 * Serves the built renderer from the app's own scheme. Every response carries the strict content
 * security policy, and no request can reach a file outside the renderer folder.
 */
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { protocol } from 'electron';
import { moduleLogger } from '../core/log.js';
import { contentTypeFor, rendererContentSecurityPolicy } from '../core/renderer-files.js';
import { appHost, appScheme } from './app-origin.js';

const log = moduleLogger('main.protocol');

/** The policy every renderer response carries; `wasm-unsafe-eval` lets the QR decoder compile. */
export const contentSecurityPolicy = rendererContentSecurityPolicy();

/**
 * Declares the scheme privileged: standard (so it has a real origin and `'self'` works), secure
 * (so the camera is allowed), fetchable (the QR decoder loads its .wasm with fetch) and
 * streamable (media). Must run before the app is ready.
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: appScheme,
      privileges: {
        standard: true,
        secure: true,
        supportFetchAPI: true,
        stream: true,
        codeCache: true,
      },
    },
  ]);
}

/**
 * Maps a request URL to a file under `rootDir`, or null when the URL is not ours or would leave
 * the folder. The path is checked after percent-decoding, because the URL parser leaves an
 * encoded slash (`..%2f`) alone and would let it through as a parent step.
 */
export function resolveRendererFile(rootDir: string, requestUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${appScheme}:` || url.host !== appHost) return null;

  let relative: string;
  try {
    relative = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  if (relative.includes('\0') || relative.includes('\\')) return null;
  if (relative.split('/').includes('..')) return null;
  if (relative.endsWith('/')) relative += 'index.html';

  const root = resolve(rootDir);
  const file = resolve(root, `.${relative}`);
  return file.startsWith(root + sep) ? file : null;
}

/** Builds the handler for `protocol.handle`: GET only, files under `rootDir` only, CSP always. */
export function createRendererHandler(rootDir: string): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return plainResponse(405, 'method not allowed');
    }

    const file = resolveRendererFile(rootDir, request.url);
    if (!file) {
      log.warn({ path: safePath(request.url) }, 'serve: refused a path outside the renderer');
      return plainResponse(404, 'not found');
    }

    return serveFile(file, request.method === 'HEAD');
  };
}

/** Answers every request on the app scheme from `rootDir`. Must run after the app is ready. */
export function serveRenderer(rootDir: string): void {
  protocol.handle(appScheme, createRendererHandler(rootDir));
  log.info({ rootDir }, 'serve: renderer bound to the app scheme');
}

async function serveFile(file: string, headOnly: boolean): Promise<Response> {
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return plainResponse(404, 'not found');
  }

  const contentType = contentTypeFor(file);
  return new Response(headOnly ? null : new Uint8Array(body), {
    status: 200,
    headers: securityHeaders(contentType),
  });
}

function plainResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: securityHeaders('text/plain; charset=utf-8') });
}

function securityHeaders(contentType: string): Headers {
  return new Headers({
    'Content-Type': contentType,
    'Content-Security-Policy': contentSecurityPolicy,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  });
}

// Only the path is logged: a refused URL is attacker-chosen text and could be long.
function safePath(url: string): string {
  try {
    return new URL(url).pathname.slice(0, 200);
  } catch {
    return '(unparseable)';
  }
}
