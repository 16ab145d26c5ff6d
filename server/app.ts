/**
 * The intercom server's HTTP and WebSocket surface: guard login and sessions (an HttpOnly,
 * SameSite=Strict cookie), what every guard reads (kiosks, call history) and does (issue passes),
 * the admin routes that manage guards, kiosks and ring groups, the kiosk and guard WebSockets, and
 * the guard console's files. Every body is checked with zod; every error leaves as
 * `{ error: { code, message } }` with one of our error codes, never a stack.
 */
import cookie from '@fastify/cookie';
import websocket from '@fastify/websocket';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { z } from 'zod';
import { KioskError, type ErrorCode } from '../app/common/errors.js';
import { moduleLogger } from '../app/core/log.js';
import { Authenticator, ThrottledError } from './auth.js';
import type { ServerConfig } from './config.js';
import { CallService, callTimingsFrom, type CallTimings } from './call-service.js';
import { addConsoleRoutes, defaultConsoleDir } from './console-files.js';
import { GuardChannel } from './guard-channel.js';
import { iceServersFor } from './ice.js';
import { KioskChannel } from './kiosk-channel.js';
import { KioskPresence } from './kiosk-presence.js';
import { loadPassSigner, PassIssuer, PassRequestSchema } from './pass-issuer.js';
import { serverVersion } from './version.js';
import {
  guardChannelPath,
  guardCloseCodes,
  kioskChannelPath,
  kioskCloseCodes,
  kioskIdSchema,
} from '../app/contract/intercom-protocol.js';
import type { Guard, GuardAccount, ServerStore } from './store.js';

const log = moduleLogger('intercom');

/** Name of the guard session cookie. */
export const sessionCookie = 'intercom_session';

/** What the server is built from; `now` lets tests move the clock. */
export interface ServerOptions {
  store: ServerStore;
  config: ServerConfig;
  now?: () => number;
  /** Overrides the configuration's ring timeout and call length; tests shorten them. */
  calls?: CallTimings;
  /** The folder relative paths of the configuration start from (its file's); default the cwd. */
  baseDir?: string;
  /** Where the built console is; default <repo>/dist/server/console. */
  consoleDir?: string;
}

/** The parts later features (calls, console) reach through `app.intercom`. */
export interface Intercom {
  store: ServerStore;
  config: ServerConfig;
  auth: Authenticator;
  kiosks: KioskChannel;
  guards: GuardChannel;
  calls: CallService;
  presence: KioskPresence;
  /** Undefined when the configuration names no site key. */
  passes: PassIssuer | undefined;
  now: () => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    intercom: Intercom;
  }
}

const LoginBody = z.strictObject({
  name: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});

const PasswordSchema = z.string().min(10, 'at least 10 characters').max(256);
const RoleSchema = z.enum(['admin', 'guard']);

/** A guard's name: what the API and the command line accept when an account is created. */
export const GuardNameSchema = z
  .string()
  .regex(/^[\p{L}\p{N}._-]{1,64}$/u, 'letters, digits, dot, dash or underscore');

const GuardBody = z.strictObject({
  name: GuardNameSchema,
  password: PasswordSchema,
  role: RoleSchema.default('guard'),
});

// A change names at least one field; an empty body is a client bug worth hearing about.
const someField = [
  (body: object) => Object.keys(body).length > 0,
  'name at least one field to change',
] as const;

const GuardChangeBody = z
  .strictObject({
    role: RoleSchema.optional(),
    disabled: z.boolean().optional(),
    password: PasswordSchema.optional(),
  })
  .refine(...someField);

const GroupIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits, dashes');

const KioskNameSchema = z.string().min(1).max(100);

const KioskBody = z.strictObject({
  id: kioskIdSchema,
  name: KioskNameSchema,
  ringGroup: GroupIdSchema.nullable().default(null),
});

const KioskChangeBody = z
  .strictObject({
    name: KioskNameSchema.optional(),
    ringGroup: GroupIdSchema.nullable().optional(),
  })
  .refine(...someField);

const RingGroupBody = z.strictObject({
  id: GroupIdSchema,
  name: z.string().min(1).max(100),
  guardIds: z.array(z.number().int().positive()).max(500),
});

const CallsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const statusByCode: Partial<Record<ErrorCode, number>> = {
  bad_payload: 400,
  unauthorised: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  throttled: 429,
};

/** Builds the server with its routes and the kiosk channel; it is not listening yet. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const now = options.now ?? Date.now;
  const { store, config } = options;
  const auth = new Authenticator({ store, config, now });
  const signer = await loadPassSigner(config.passes, options.baseDir ?? process.cwd());
  const kiosks = new KioskChannel({ auth, settings: config.kiosks, store, now });
  const guards = new GuardChannel({ auth, settings: config.kiosks, store, now });
  const timings = { ...callTimingsFrom(config.calls), ...options.calls };
  const calls = new CallService({ kiosks, guards, store, ice: config.ice, now, timings });
  const presence = new KioskPresence({ kiosks, store, now });
  const passes = signer && new PassIssuer({ signer, store, now });

  // Fastify types its logger against the pino it bundles; ours is a newer pino of the same shape.
  const logger = log as unknown as FastifyBaseLogger;
  const app = Fastify({
    loggerInstance: logger,
    // Routes log their own refusals; a line per request would bury them.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 16 * 1024,
    trustProxy: trustProxyOf(config.trustProxy),
  });
  app.decorate('intercom', { store, config, auth, kiosks, guards, calls, presence, passes, now });
  await app.register(cookie);
  await app.register(websocket, {
    // Past this, ws closes the connection itself; below it, the channel answers with an error.
    options: { maxPayload: 4 * config.kiosks.maxMessageBytes },
    errorHandler: socketFailed,
    preClose: (done) => {
      calls.close();
      kiosks.close();
      guards.close();
      presence.close();
      app.websocketServer.close(() => done());
    },
  });

  installErrorHandling(app);
  refuseUpgradesOffChannels(app);
  addHealthRoute(app);
  addSessionRoutes(app);
  addGuardRoutes(app);
  addAdminRoutes(app);
  addKioskChannel(app);
  addGuardChannel(app);
  addConsoleRoutes(app, options.consoleDir ?? defaultConsoleDir());
  schedulePurge(app);
  return app;
}

/** A listening server and how to stop it. */
export interface RunningServer {
  app: FastifyInstance;
  /** An address this machine can open: loopback when the server listens on every interface. */
  url: string;
  /** True when `host` is 0.0.0.0 or ::, so other machines reach it by this machine's address. */
  allInterfaces: boolean;
  close(): Promise<void>;
}

/** Builds the server and listens on the configured host (127.0.0.1 by default) and port. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const app = await buildServer(options);
  await app.listen({ host: options.config.host, port: options.config.port });

  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.config.port;
  const { host } = options.config;
  const url = reachableUrl(host, port);
  const allInterfaces = isWildcardHost(host);
  log.info({ url, host, allInterfaces }, 'start: listening');
  return { app, url, allInterfaces, close: () => app.close() };
}

/**
 * The URL to open a server listening on `host`. A wildcard bind (0.0.0.0, ::) is no address a
 * browser or kiosk can open, so it becomes loopback of the same family.
 */
export function reachableUrl(host: string, port: number): string {
  const reachable = !isWildcardHost(host) ? host : host.includes(':') ? '::1' : '127.0.0.1';
  const bracketed = reachable.includes(':') ? `[${reachable}]` : reachable;

  return `http://${bracketed}:${port}`;
}

function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/**
 * Fastify's trustProxy from the configuration. A hop count becomes a function, since Fastify
 * trusts nobody for a bare number: the operator who names a count vouches for those hops.
 */
function trustProxyOf(
  trust: ServerConfig['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust !== 'number') return trust;

  return (_address, hop) => hop < trust;
}

/**
 * A socket that failed under ws (an oversized or broken frame, a client gone mid-frame) is the
 * client's doing, often before it said who it is: one warning line with its address, no stack.
 */
function socketFailed(error: Error, socket: { terminate(): void }, request: FastifyRequest): void {
  log.warn({ remote: request.ip, path: request.url, reason: error.message }, 'socket: failed');
  socket.terminate();
}

function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | KioskError, request, reply) => {
    const { status, code, message } = describeError(error);
    if (status >= 500) log.error({ err: error, url: request.url }, 'request: failed');
    else log.info({ url: request.url, code, status }, 'request: refused');

    if (error instanceof ThrottledError) void reply.header('Retry-After', error.retryAfterSeconds);
    void reply.status(status).send({ error: { code, message } });
  });

  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url}` } });
  });

  app.addHook('onSend', async (_request, reply) => {
    void reply.header('Cache-Control', 'no-store').header('X-Content-Type-Options', 'nosniff');
  });
}

function describeError(error: FastifyError | KioskError): {
  status: number;
  code: ErrorCode;
  message: string;
} {
  if (error instanceof KioskError) {
    const status = statusByCode[error.code] ?? 500;
    return { status, code: error.code, message: status >= 500 ? 'internal error' : error.message };
  }

  // Fastify's own 4xx (bad JSON, wrong content type, body too large) name the problem safely.
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, code: 'bad_payload', message: error.message };
  return { status: 500, code: 'internal', message: 'internal error' };
}

/** For monitoring: answers without a session and says nothing but that the server runs. */
function addHealthRoute(app: FastifyInstance): void {
  const version = serverVersion();

  app.get('/api/health', () => ({ ok: true, version }));
}

function addSessionRoutes(app: FastifyInstance): void {
  const { auth, config } = app.intercom;

  app.post('/api/login', async (request, reply) => {
    const body = parseBody(LoginBody, request.body);
    const result = await auth.login(body.name, body.password, request.ip);

    void reply.setCookie(sessionCookie, result.token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: config.secureCookie,
      path: '/',
      maxAge: Math.floor(config.sessionHours * 3600),
    });
    return { guard: publicGuard(result.guard), expiresAt: result.expiresAt };
  });

  app.post('/api/logout', (request, reply) => {
    const token = request.cookies[sessionCookie];
    if (token) auth.logout(token);
    // The console's channel of that session must not outlive it until its next message.
    if (token) app.intercom.guards.closeEndedSessions();

    void reply.clearCookie(sessionCookie, { path: '/' }).status(204).send();
  });

  app.get('/api/me', (request) => ({ guard: publicGuard(requireGuard(app, request)) }));

  app.get('/api/ice', (request) => {
    const guard = requireGuard(app, request);
    return { iceServers: iceServersFor(config.ice, `guard-${guard.id}`, app.intercom.now()) };
  });
}

/** What every logged-in guard may read and do; admins see more in some answers. */
function addGuardRoutes(app: FastifyInstance): void {
  const { store, presence } = app.intercom;

  app.get('/api/kiosks', (request) => {
    const guard = requireGuard(app, request);
    return { kiosks: guard.role === 'admin' ? presence.list() : presence.listForGuard() };
  });

  app.get('/api/calls', (request) => {
    const guard = requireGuard(app, request);
    const { limit } = parseBody(CallsQuery, request.query);

    const viewer = guard.role === 'admin' ? { all: true as const } : viewerOf(guard);
    return { calls: store.listCalls(viewer, limit) };
  });

  app.post('/api/passes', async (request, reply) => {
    const guard = requireGuard(app, request);
    const issuer = app.intercom.passes;
    if (!issuer) {
      const message = 'pass issuing needs passes.site and passes.privateKeyFile in the config';
      return notConfigured(reply, message);
    }

    const body = parseBody(PassRequestSchema, request.body);
    return reply.status(201).send(await issuer.issue(body, guard));
  });
}

function viewerOf(guard: Guard): { guardId: number; guardName: string } {
  return { guardId: guard.id, guardName: guard.name };
}

/**
 * A feature the site has not set up. `not_configured` is an HTTP answer only (the kiosk never
 * sees it), so it is not one of the shared error codes.
 */
function notConfigured(reply: FastifyReply, message: string): FastifyReply {
  log.info({ message }, 'request: not configured');
  return reply.status(503).send({ error: { code: 'not_configured', message } });
}

function addAdminRoutes(app: FastifyInstance): void {
  addGuardAdminRoutes(app);
  addKioskAdminRoutes(app);
  addRingGroupRoutes(app);
}

function addGuardAdminRoutes(app: FastifyInstance): void {
  const { auth, store, guards } = app.intercom;

  app.get('/api/guards', (request) => {
    requireAdmin(app, request);
    return { guards: store.listGuards().map(guardAccount) };
  });

  app.post('/api/guards', async (request, reply) => {
    const admin = requireAdmin(app, request);
    const body = parseBody(GuardBody, request.body);

    const guard = await auth.createGuard(body.name, body.password, body.role, admin.name);
    return reply.status(201).send({ guard: publicGuard(guard) });
  });

  app.patch('/api/guards/:name', async (request) => {
    const admin = requireAdmin(app, request);
    const { name } = parseBody(z.object({ name: z.string().min(1).max(64) }), request.params);
    const body = parseBody(GuardChangeBody, request.body);

    const actor = { name: admin.name, token: request.cookies[sessionCookie] ?? '' };
    const guard = await auth.updateGuard(name, body, actor);
    // A disabled guard's console, or one whose password was reset, must not keep ringing.
    guards.closeEndedSessions();
    return { guard: guardAccount(guard) };
  });
}

function addKioskAdminRoutes(app: FastifyInstance): void {
  const { auth, store, kiosks } = app.intercom;

  app.post('/api/kiosks', (request, reply) => {
    const admin = requireAdmin(app, request);
    const body = parseBody(KioskBody, request.body);

    const { kiosk, secret } = auth.enrolKiosk(body, admin.name);
    void reply.status(201).send({ kiosk, secret });
  });

  app.post('/api/kiosks/:id/revoke', (request, reply) => {
    const admin = requireAdmin(app, request);
    const { id } = parseBody(z.object({ id: kioskIdSchema }), request.params);

    auth.revokeKiosk(id, admin.name);
    kiosks.disconnect(id, kioskCloseCodes.revoked, 'unauthorised: revoked');
    void reply.status(204).send();
  });

  // A live call keeps the name and ring group it started with; the next call takes the new ones.
  app.patch('/api/kiosks/:id', (request) => {
    const admin = requireAdmin(app, request);
    const { id } = parseBody(z.object({ id: kioskIdSchema }), request.params);
    const body = parseBody(KioskChangeBody, request.body);

    const { before, after } = store.updateKiosk(id, body);
    kiosks.refresh(after);
    const changes = changedFields(before, after, ['name', 'ringGroup']);
    if (Object.keys(changes).length > 0) {
      audit(app, 'kiosk.updated', admin.name, { kioskId: id, ...changes });
    }
    return { kiosk: after };
  });
}

function addRingGroupRoutes(app: FastifyInstance): void {
  const { store } = app.intercom;

  app.get('/api/ring-groups', (request) => {
    requireAdmin(app, request);
    return { ringGroups: store.listRingGroups() };
  });

  app.post('/api/ring-groups', (request) => {
    const admin = requireAdmin(app, request);
    const body = parseBody(RingGroupBody, request.body);

    store.saveRingGroup(body);
    audit(app, 'ring_group.saved', admin.name, { ...body });
    return { ringGroup: body };
  });

  app.delete('/api/ring-groups/:id', (request, reply) => {
    const admin = requireAdmin(app, request);
    const { id } = parseBody(z.object({ id: GroupIdSchema }), request.params);

    const group = store.deleteRingGroup(id);
    audit(app, 'ring_group.deleted', admin.name, { ringGroupId: id, name: group.name });
    void reply.status(204).send();
  });
}

function audit(
  app: FastifyInstance,
  action: string,
  actor: string,
  detail: Record<string, unknown>,
): void {
  app.intercom.store.appendAudit({ at: app.intercom.now(), action, actor, detail });
}

/** Each of `fields` that differs, as `{ from, to }`. */
function changedFields<T extends object>(
  before: T,
  after: T,
  fields: readonly (keyof T & string)[],
): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of fields) {
    if (before[field] !== after[field]) changes[field] = { from: before[field], to: after[field] };
  }
  return changes;
}

/**
 * A WebSocket upgrade anywhere but the two channels is answered with HTTP 404 instead of a socket
 * that opens and closes at once, so a kiosk with a wrong intercom.url can say what is wrong.
 */
function refuseUpgradesOffChannels(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.ws) return;

    const path = request.url.split('?', 1)[0] ?? '/';
    if (path === kioskChannelPath || path === guardChannelPath) return;

    log.info({ path, remote: request.ip }, 'upgrade: refused, no channel at this path');
    const message = `no WebSocket channel at ${path}: kiosks use ${kioskChannelPath}`;
    return reply.status(404).send({ error: { code: 'not_found', message } });
  });
}

function addKioskChannel(app: FastifyInstance): void {
  app.get(kioskChannelPath, { websocket: true }, (socket, request) => {
    app.intercom.kiosks.attach(socket, request.ip);
  });
}

/**
 * A browser always names the page that opens a WebSocket. The session cookie is SameSite=Strict
 * already; refusing other origins as well keeps a page on another site from riding a guard's
 * session even where a browser is lax with cookies.
 */
function requireOwnOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;

  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = '';
  }
  if (originHost !== request.headers.host) {
    log.warn({ origin, remote: request.ip }, 'guard channel: refused a foreign origin');
    throw new KioskError(
      'forbidden',
      'the guard channel accepts only the console this server serves',
    );
  }
}

function addGuardChannel(app: FastifyInstance): void {
  // Runs before the upgrade: without a live session the answer is a plain 401, not a socket.
  const preValidation = (
    request: FastifyRequest,
    _reply: unknown,
    done: (error?: Error) => void,
  ): void => {
    try {
      requireGuard(app, request);
      requireOwnOrigin(request);
      done();
    } catch (error) {
      done(error as Error);
    }
  };

  app.get(guardChannelPath, { websocket: true, preValidation }, (socket, request) => {
    const token = request.cookies[sessionCookie] ?? '';
    const guard = app.intercom.auth.sessionGuard(token);
    // The session can end between the check and the upgrade.
    if (!guard) return socket.close(guardCloseCodes.sessionEnded, 'unauthorised: log in first');

    app.intercom.guards.attach(socket, guard, token, request.ip);
  });
}

// Expired sessions are refused on read anyway; purging keeps the table from growing forever.
function schedulePurge(app: FastifyInstance): void {
  const timer = setInterval(() => {
    try {
      app.intercom.auth.purgeExpiredSessions();
    } catch (error) {
      log.error({ err: error }, 'purge sessions: failed');
    }
  }, 3_600_000);
  timer.unref();
  app.addHook('onClose', () => clearInterval(timer));
}

/** The guard of the request's session cookie; throws `unauthorised` without a live session. */
export function requireGuard(app: FastifyInstance, request: FastifyRequest): Guard {
  const token = request.cookies[sessionCookie];
  const guard = token ? app.intercom.auth.sessionGuard(token) : undefined;
  if (!guard) throw new KioskError('unauthorised', 'log in first');

  return guard;
}

/** The admin of the request's session; a guard without the admin role gets `forbidden`. */
export function requireAdmin(app: FastifyInstance, request: FastifyRequest): Guard {
  const guard = requireGuard(app, request);
  if (guard.role !== 'admin') throw new KioskError('forbidden', 'only an admin may do this');

  return guard;
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;

  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`,
  );
  throw new KioskError('bad_payload', problems.join('; '));
}

function publicGuard(guard: Guard): Guard {
  return { id: guard.id, name: guard.name, role: guard.role, disabled: guard.disabled };
}

function guardAccount(guard: GuardAccount): GuardAccount {
  return { ...publicGuard(guard), createdAt: guard.createdAt };
}
