/**
 * Test fixtures for the intercom server: a server on a scratch store with a movable clock, an
 * admin account, and helpers to log in and read the session cookie.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer, sessionCookie, startServer, type ServerOptions } from '../app.js';
import { parseServerConfig, type ServerConfig } from '../config.js';
import { openServerStore, type ServerStore } from '../store.js';

/** A clock tests move by hand. */
export interface TestClock {
  now: number;
}

/** A built server, its store and clock, and how to clean up. */
export interface TestServer {
  app: FastifyInstance;
  store: ServerStore;
  clock: TestClock;
  config: ServerConfig;
  /** Set when started with `listen: true`. */
  url: string | undefined;
  close(): Promise<void>;
}

export const adminName = 'admin';
export const adminPassword = 'correct horse battery';

/** Builds (and with `listen`, starts on a free loopback port) a server with one admin. */
export async function makeServer(
  raw: Record<string, unknown> = {},
  options: { listen?: boolean } & Pick<ServerOptions, 'baseDir' | 'consoleDir' | 'calls'> = {},
): Promise<TestServer> {
  const { listen, ...serverOptions } = options;
  const folder = await mkdtemp(join(tmpdir(), 'intercom-test-'));
  const store = openServerStore({ file: join(folder, 'intercom.db') });
  const config = parseServerConfig({ port: 0, ...raw });
  const clock: TestClock = { now: Date.UTC(2026, 0, 5, 8, 0, 0) };
  const now = () => clock.now;

  const built = { ...serverOptions, store, config, now };
  const running = listen ? await startServer(built) : undefined;
  const app = running?.app ?? (await buildServer(built));
  await app.intercom.auth.createGuard(adminName, adminPassword, 'admin', 'test');

  const close = async () => {
    await app.close();
    store.close();
    await rm(folder, { recursive: true, force: true });
  };
  return { app, store, clock, config, url: running?.url, close };
}

/** Logs in through the API and returns the Cookie header value for later requests. */
export async function login(app: FastifyInstance, name: string, password: string): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/login',
    payload: { name, password },
  });
  const session = response.cookies.find((cookie) => cookie.name === sessionCookie);
  if (response.statusCode !== 200 || !session) {
    throw new Error(`login of ${name} failed: ${response.statusCode} ${response.body}`);
  }

  return `${sessionCookie}=${session.value}`;
}

/** Enrols a kiosk as the admin and returns its secret. */
export async function enrolKiosk(
  app: FastifyInstance,
  adminCookie: string,
  id: string,
): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/kiosks',
    headers: { cookie: adminCookie },
    payload: { id, name: `Kiosk ${id}` },
  });
  if (response.statusCode !== 201) throw new Error(`enrol failed: ${response.body}`);

  return response.json<{ secret: string }>().secret;
}

/** A GET through inject, sending `cookie` (a login's Cookie header) when given. */
export function getAs(app: FastifyInstance, url: string, cookie?: string) {
  return app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
}

/** A POST of a JSON `payload` through inject, sending `cookie` when given. */
export function postAs(app: FastifyInstance, url: string, payload: unknown, cookie?: string) {
  return sendAs(app, 'POST', url, payload, cookie);
}

/** A PATCH of a JSON `payload` through inject, sending `cookie` when given. */
export function patchAs(app: FastifyInstance, url: string, payload: unknown, cookie?: string) {
  return sendAs(app, 'PATCH', url, payload, cookie);
}

/** A DELETE through inject, sending `cookie` when given. */
export function deleteAs(app: FastifyInstance, url: string, cookie?: string) {
  return sendAs(app, 'DELETE', url, undefined, cookie);
}

function sendAs(
  app: FastifyInstance,
  method: 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload: unknown,
  cookie: string | undefined,
) {
  return app.inject({
    method,
    url,
    payload: payload as Record<string, unknown>,
    headers: cookie ? { cookie } : {},
  });
}
