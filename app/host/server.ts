/**
 * The browser host: serves the renderer over loopback HTTP and carries the contract over a
 * WebSocket, so the kiosk page runs in any Chromium without Electron. Only pages the host served
 * itself may connect: the WebSocket needs this start's token and the host's own origin.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import {
  STATUS_CODES,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { z } from 'zod';
import { KioskError, type ErrorCode } from '../common/errors.js';
import {
  events,
  isCommandName,
  parseCommandInput,
  type EventName,
  type KioskService,
} from '../contract/api.js';
import {
  ClientMessageSchema,
  maxWsMessageBytes,
  wsPath,
  type ServerMessage,
} from '../contract/ws-protocol.js';
import { moduleLogger } from '../core/log.js';
import { contentTypeFor, rendererContentSecurityPolicy } from '../core/renderer-files.js';

const log = moduleLogger('host');

const loopback = '127.0.0.1';

/** The same policy Electron sends, plus the loopback WebSocket the page talks to the core on. */
export const contentSecurityPolicy = rendererContentSecurityPolicy(['ws://127.0.0.1:*']);

/**
 * Frames above this close the connection inside ws before they are buffered whole. Between
 * maxWsMessageBytes and this, the host answers with an error and keeps the connection.
 */
const hardFrameLimit = 4 * maxWsMessageBytes;

const securityHeaders = {
  'Content-Security-Policy': contentSecurityPolicy,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

/** What the host needs: the core to bind to, where to listen and what to serve. */
export interface HostOptions {
  kiosk: KioskService;
  /** 0 (the default) lets the OS choose a free port. */
  port?: number;
  rendererDir: string;
}

/** A running host. `url` carries the token; hand it only to the kiosk's own browser. */
export interface Host {
  url: string;
  token: string;
  close(): Promise<void>;
}

/** Starts the host on 127.0.0.1 and resolves once it listens. */
export async function startHost(options: HostOptions): Promise<Host> {
  const root = resolve(options.rendererDir);
  if (!existsSync(resolve(root, 'index.html'))) {
    log.warn({ rendererDir: root }, 'start: no index.html to serve; run `npm run build:renderer`');
  }

  const token = randomBytes(32).toString('base64url');
  const server = createServer();
  // The origin is known only once the port is, but handlers go on before anything can connect.
  const bound: { channel?: ContractChannel } = {};

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (!bound.channel) return respond(response, 503);
    serveRequest(request, response, root, bound.channel.host).catch((error: unknown) =>
      failRequest(response, error),
    );
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (bound.channel) bound.channel.upgrade(request, socket, head);
    else refuseUpgrade(socket, 503);
  });
  server.on('clientError', (error, socket) => {
    log.warn({ err: error }, 'http: bad client request');
    socket.destroy();
  });
  await listen(server, options.port ?? 0);

  const port = (server.address() as AddressInfo).port;
  const origin = `http://${loopback}:${port}`;
  const channel = new ContractChannel(options.kiosk, token, origin);
  bound.channel = channel;

  log.info({ origin, rendererDir: root }, 'start: host listening');
  return {
    url: `${origin}/?token=${token}`,
    token,
    close: () => closeHost(server, channel),
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(port, loopback, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
}

async function closeHost(server: Server, channel: ContractChannel): Promise<void> {
  await channel.close();

  await new Promise<void>((resolveClose) => {
    server.close(() => resolveClose());
    server.closeAllConnections();
  });
  log.info('close: host stopped');
}

/** The WebSocket side: checks who connects, then carries commands in and events out. */
class ContractChannel {
  readonly host: string;
  private readonly sockets = new WebSocketServer({ noServer: true, maxPayload: hardFrameLimit });
  private readonly tokenDigest: Buffer;
  private readonly unsubscribers: (() => void)[];

  constructor(
    private readonly kiosk: KioskService,
    token: string,
    private readonly origin: string,
  ) {
    this.host = new URL(origin).host;
    this.tokenDigest = digest(token);
    // Every event of the contract goes to every page, as Electron's IPC forwards them all.
    this.unsubscribers = (Object.keys(events) as EventName[]).map((event) =>
      kiosk.subscribe(event, (payload) => this.broadcast({ type: 'event', event, payload })),
    );
  }

  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', this.origin);
    const refusal = this.refusalOf(request, url);
    if (refusal) {
      log.warn(
        { status: refusal.status, why: refusal.why, path: url.pathname },
        'ws: upgrade refused',
      );
      refuseUpgrade(socket, refusal.status);
      return;
    }

    this.sockets.handleUpgrade(request, socket, head, (ws) => this.accept(ws));
  }

  async close(): Promise<void> {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    for (const ws of this.sockets.clients) ws.close(1001, 'host closing');

    await new Promise<void>((resolveClose) => this.sockets.close(() => resolveClose()));
  }

  private refusalOf(request: IncomingMessage, url: URL): { status: number; why: string } | null {
    if (url.pathname !== wsPath) return { status: 404, why: 'not the contract path' };
    if (!this.tokenMatches(url.searchParams.get('token')))
      return { status: 401, why: 'missing or wrong token' };
    if (request.headers.origin !== this.origin) return { status: 403, why: 'foreign origin' };
    if (request.headers.host !== this.host) return { status: 403, why: 'foreign host' };

    return null;
  }

  /** Compares digests so that neither the token's content nor its length leaks through timing. */
  private tokenMatches(candidate: string | null): boolean {
    return candidate !== null && timingSafeEqual(digest(candidate), this.tokenDigest);
  }

  private accept(ws: WebSocket): void {
    log.info({ clients: this.sockets.clients.size }, 'ws: page connected');

    ws.on('message', (data: RawData, isBinary: boolean) => {
      void this.receive(ws, data, isBinary);
    });
    ws.on('error', (error) => log.warn({ err: error }, 'ws: connection error'));
    ws.on('close', (code) =>
      log.info({ code, clients: this.sockets.clients.size }, 'ws: page disconnected'),
    );
  }

  private async receive(ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    const bytes = toBuffer(data);
    if (isBinary)
      return this.reject(ws, null, 'bad_payload', 'binary messages are not part of the protocol');
    if (bytes.length > maxWsMessageBytes) {
      return this.reject(
        ws,
        null,
        'bad_payload',
        `message of ${bytes.length} bytes exceeds ${maxWsMessageBytes}`,
      );
    }

    let raw: unknown;
    try {
      raw = JSON.parse(bytes.toString('utf8'));
    } catch {
      return this.reject(ws, null, 'bad_payload', 'message is not JSON');
    }

    const message = ClientMessageSchema.safeParse(raw);
    if (!message.success)
      return this.reject(ws, idOf(raw), 'bad_payload', describeIssues(message.error));

    await this.invoke(ws, message.data.id, message.data.command, message.data.input);
  }

  private async invoke(ws: WebSocket, id: number, command: string, input: unknown): Promise<void> {
    if (!isCommandName(command))
      return this.reject(ws, id, 'not_found', `unknown command ${command}`);

    let checked: unknown;
    try {
      checked = parseCommandInput(command, input);
    } catch (error) {
      const detail = error instanceof z.ZodError ? describeIssues(error) : 'invalid input';
      return this.reject(ws, id, 'bad_payload', `${command}: ${detail}`);
    }

    try {
      const output: unknown = await this.kiosk.handle(command, checked as never);
      // A void command's output is undefined, which JSON leaves out: the protocol allows that.
      send(ws, { type: 'result', id, output });
    } catch (error) {
      const known = error instanceof KioskError;
      if (!known) log.error({ err: error, command }, 'ws: command failed');
      this.reject(
        ws,
        id,
        known ? error.code : 'internal',
        known ? error.message : 'the kiosk could not do that',
      );
    }
  }

  private reject(ws: WebSocket, id: number | null, code: ErrorCode, message: string): void {
    log.warn({ id, code, message }, 'ws: message refused');
    send(ws, { type: 'error', id, error: { code, message } });
  }

  private broadcast(message: ServerMessage): void {
    for (const ws of this.sockets.clients) send(ws, message);
  }
}

function send(ws: WebSocket, message: ServerMessage): void {
  if (ws.readyState !== WebSocket.OPEN) return;

  ws.send(JSON.stringify(message), (error) => {
    if (error) log.warn({ err: error }, 'ws: send failed');
  });
}

function refuseUpgrade(socket: Duplex, status: number): void {
  const reason = STATUS_CODES[status] ?? 'Refused';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);

  return Buffer.from(data);
}

/** The request id, when a message that failed validation still carries a usable one. */
function idOf(raw: unknown): number | null {
  if (typeof raw !== 'object' || raw === null) return null;

  const id = (raw as { id?: unknown }).id;
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 ? id : null;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.join('.') || '(message)'}: ${issue.message}`)
    .join('; ');
}

/** Serves one file from the renderer folder, refusing anything outside it. */
async function serveRequest(
  request: IncomingMessage,
  response: ServerResponse,
  root: string,
  host: string,
): Promise<void> {
  if (request.headers.host !== host) return respond(response, 403, 'foreign host');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return respond(response, 405);
  }

  const file = await resolveFile(root, request.url ?? '/');
  if (file.status !== 200) {
    if (file.status === 403)
      log.warn({ url: request.url }, 'http: path outside the renderer refused');
    return respond(response, file.status);
  }

  response.writeHead(200, {
    ...securityHeaders,
    'Content-Type': contentTypeFor(file.path),
    'Content-Length': file.size,
  });
  if (request.method === 'HEAD') return void response.end();

  createReadStream(file.path)
    .on('error', (error) => response.destroy(error))
    .pipe(response);
}

type ResolvedFile = { status: 200; path: string; size: number } | { status: 400 | 403 | 404 };

async function resolveFile(root: string, requestUrl: string): Promise<ResolvedFile> {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(requestUrl, 'http://host.invalid').pathname);
  } catch {
    return { status: 400 };
  }
  if (pathname.includes('\0')) return { status: 400 };

  const wanted = resolve(root, `.${pathname.endsWith('/') ? `${pathname}index.html` : pathname}`);
  if (!isInside(root, wanted)) return { status: 403 };

  try {
    // A symbolic link inside the folder must not lead out of it either.
    const [real, realRoot] = await Promise.all([realpath(wanted), realpath(root)]);
    if (!isInside(realRoot, real)) return { status: 403 };

    const info = await stat(real);
    return info.isFile() ? { status: 200, path: real, size: info.size } : { status: 404 };
  } catch {
    return { status: 404 };
  }
}

function isInside(root: string, path: string): boolean {
  return path.startsWith(root + sep);
}

function respond(
  response: ServerResponse,
  status: number,
  body = STATUS_CODES[status] ?? '',
): void {
  response.writeHead(status, { ...securityHeaders, 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(body);
}

function failRequest(response: ServerResponse, error: unknown): void {
  log.error({ err: error }, 'http: request failed');
  if (!response.headersSent) respond(response, 500);
  else response.destroy();
}
