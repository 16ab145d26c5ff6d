/**
 * Test fixtures for the intercom server: a server on a scratch store with a movable clock, an
 * admin account, and helpers to log in and read the session cookie.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer, sessionCookie, startServer } from '../app.js';
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
  options: { listen?: boolean } = {},
): Promise<TestServer> {
  const folder = await mkdtemp(join(tmpdir(), 'intercom-test-'));
  const store = openServerStore({ file: join(folder, 'intercom.db') });
  const config = parseServerConfig({ port: 0, ...raw });
  const clock: TestClock = { now: Date.UTC(2026, 0, 5, 8, 0, 0) };
  const now = () => clock.now;

  const running = options.listen ? await startServer({ store, config, now }) : undefined;
  const app = running?.app ?? (await buildServer({ store, config, now }));
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
