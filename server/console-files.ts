/**
 * Serves the built guard console (`npm run build` writes it to dist/server/console) at `/`, under
 * a strict content security policy: scripts, styles and fonts from the server itself only, media
 * from WebRTC streams and blobs, WebSockets to this host alone, and no framing. Paths the console
 * routes itself (a reload on /history) get index.html when a browser asks for a page, and `/` gets
 * it whatever the Accept header says; the API keeps its JSON 404s.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { moduleLogger } from '../app/core/log.js';
import { contentTypeFor } from '../app/core/renderer-files.js';
import { guardChannelPath, kioskChannelPath } from '../app/contract/intercom-protocol.js';

const log = moduleLogger('console-files');

/**
 * The checkout the server runs from, found from this file whether it runs compiled (dist/server)
 * or from sources under tsx or vitest (server/).
 */
export function checkoutDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const compiled = basename(here) === 'server' && basename(dirname(here)) === 'dist';

  return compiled ? resolve(here, '..', '..') : resolve(here, '..');
}

/** Where the build puts the console: <repo>/dist/server/console. */
export function defaultConsoleDir(): string {
  return join(checkoutDir(), 'dist', 'server', 'console');
}

/** The console's policy; WebSockets may reach the host that served the page, nothing else. */
export function consoleContentSecurityPolicy(host: string | undefined): string {
  const sockets =
    host && /^[A-Za-z0-9.:[\]-]+$/.test(host) ? [`ws://${host}`, `wss://${host}`] : [];

  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    ["connect-src 'self'", ...sockets].join(' '),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Adds the GET route that serves the console from `consoleDir`. */
export function addConsoleRoutes(app: FastifyInstance, consoleDir: string): void {
  const root = resolve(consoleDir);

  app.get('/*', async (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '/';
    if (isServerPath(path)) return notFound(request, reply);

    const file = fileFor(root, path);
    if (file && (await isFile(file))) return sendFile(request, reply, file);
    // `/` is the console whoever asks (curl, a health check); deeper paths only for browsers.
    if (path !== '/' && !acceptsHtml(request)) return notFound(request, reply);

    const index = join(root, 'index.html');
    if (await isFile(index)) return sendFile(request, reply, index);
    return notBuilt(reply, root);
  });
}

/** Paths that belong to the API and channels: never answered with the console page. */
function isServerPath(path: string): boolean {
  return (
    path === '/api' ||
    path.startsWith('/api/') ||
    path === kioskChannelPath ||
    path === guardChannelPath
  );
}

/** The file a URL path names inside `root`; undefined for anything that could leave it. */
function fileFor(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;

  const segments = decoded.split('/').filter((segment) => segment !== '');
  // Dot files and `..` are never part of a build; refusing them closes traversal outright.
  if (segments.some((segment) => segment.startsWith('.'))) return undefined;

  const file = resolve(root, ...segments);
  return file.startsWith(root + sep) ? file : undefined;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function acceptsHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/html');
}

async function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  file: string,
): Promise<FastifyReply> {
  const body = await readFile(file);

  return reply
    .header('Content-Type', contentTypeFor(file))
    .header('Content-Security-Policy', consoleContentSecurityPolicy(request.headers.host))
    .header('X-Frame-Options', 'DENY')
    .header('Referrer-Policy', 'no-referrer')
    .send(body);
}

function notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply
    .status(404)
    .send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url}` } });
}

function notBuilt(reply: FastifyReply, root: string): FastifyReply {
  log.warn({ root }, 'console: not built');
  return reply
    .status(503)
    .header('Content-Type', 'text/plain; charset=utf-8')
    .send(`The guard console is not built (no ${join(root, 'index.html')}): run npm run build.\n`);
}
