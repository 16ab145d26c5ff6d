import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSiteKeys, verifyPass, type SiteKeyPair } from '../app/core/passes.js';
import { kioskChannelPath } from '../app/contract/intercom-protocol.js';
import { buildServer } from './app.js';
import { parseServerConfig } from './config.js';
import { openServerStore } from './store.js';
import {
  adminName,
  adminPassword,
  enrolKiosk,
  getAs,
  login,
  makeServer,
  postAs,
  type TestServer,
} from './testing/fixtures.js';
import { connectClient, type Client } from './testing/call-site.js';
import { textMatching } from './testing/matchers.js';

let server: TestServer | undefined;
const folders: string[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.terminate();
  await server?.close();
  server = undefined;
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

/** The server the test made. */
function current(): TestServer {
  if (!server) throw new Error('no server');
  return server;
}

async function scratch(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'intercom-api-'));
  folders.push(folder);
  return folder;
}

/** Cookies of the admin and of guard `wang`, who is in ring group `north` only. */
async function accounts(): Promise<{ admin: string; wang: string; wangId: number }> {
  const { app, store } = current();
  const admin = await login(app, adminName, adminPassword);
  const wang = await app.intercom.auth.createGuard('wang', 'wang password 1', 'guard', 't');
  store.saveRingGroup({ id: 'north', name: 'North', guardIds: [wang.id] });
  store.saveRingGroup({ id: 'south', name: 'South', guardIds: [] });
  return { admin, wang: await login(app, 'wang', 'wang password 1'), wangId: wang.id };
}

const get = (url: string, cookie?: string) => getAs(current().app, url, cookie);

const post = (url: string, payload: unknown, cookie?: string) =>
  postAs(current().app, url, payload, cookie);

/** A kiosk's control connection that has said hello and been welcomed. */
async function connectKiosk(kioskId: string, secret: string): Promise<Client> {
  const url = `${current().url?.replace('http', 'ws')}${kioskChannelPath}`;
  const kiosk = await connectClient(url);
  clients.push(kiosk);
  kiosk.send({ type: 'hello', kioskId, secret, version: '0.3.1' });
  await kiosk.take('welcome');
  return kiosk;
}

describe('kiosks page', () => {
  it('lists every kiosk to any guard with its online state and never a secret', async () => {
    server = await makeServer({}, { listen: true });
    const { admin, wang } = await accounts();
    const secret = await enrolKiosk(server.app, admin, 'north-1');
    await enrolKiosk(server.app, admin, 'south-1');
    await connectKiosk('north-1', secret);
    const connectedAt = server.clock.now;

    const asGuard = await get('/api/kiosks', wang);
    const anonymous = await get('/api/kiosks');

    expect(anonymous.statusCode).toBe(401);
    expect(asGuard.statusCode).toBe(200);
    expect(asGuard.body).not.toContain(secret);
    expect(asGuard.json()).toEqual({
      kiosks: [
        {
          id: 'north-1',
          name: 'Kiosk north-1',
          online: true,
          connectedAt,
          lastSeenAt: connectedAt,
          version: '0.3.1',
          revoked: false,
        },
        {
          id: 'south-1',
          name: 'Kiosk south-1',
          online: false,
          connectedAt: null,
          lastSeenAt: null,
          version: null,
          revoked: false,
        },
      ],
    });
    expect((await get('/api/kiosks', admin)).json()).toMatchObject({
      kiosks: [
        { id: 'north-1', ringGroup: null },
        { id: 'south-1', ringGroup: null },
      ],
    });
  });

  it('shows when an offline kiosk was last seen, and keeps it in the store', async () => {
    server = await makeServer({}, { listen: true });
    const { wang, admin } = await accounts();
    const secret = await enrolKiosk(server.app, admin, 'north-1');
    const kiosk = await connectKiosk('north-1', secret);
    server.clock.now += 5_000;
    await kiosk.sync();
    server.clock.now += 60_000;
    const leftAt = server.clock.now;

    const offline = once(server.app.intercom.kiosks, 'offline');
    kiosk.socket.close();
    await offline;

    expect((await get('/api/kiosks', wang)).json()).toMatchObject({
      kiosks: [{ id: 'north-1', online: false, lastSeenAt: leftAt, version: '0.3.1' }],
    });
    server.app.intercom.presence.flush();
    expect(server.store.listKioskStatus()).toMatchObject([
      { id: 'north-1', lastSeenAt: leftAt, version: '0.3.1' },
    ]);
  });
});

describe('call history', () => {
  it('shows admins every call and guards the calls of their ring groups, newest first', async () => {
    server = await makeServer();
    const { admin, wang } = await accounts();
    const { auth } = server.app.intercom;
    auth.enrolKiosk({ id: 'north-1', name: 'North 1', ringGroup: 'north' }, 'test');
    auth.enrolKiosk({ id: 'south-1', name: 'South 1', ringGroup: 'south' }, 'test');
    server.store.recordCallStart({ callId: 'n1', kioskId: 'north-1', ringStartedAt: 1 });
    server.store.recordCallEnd('n1', 5, 'missed');
    server.store.recordCallStart({ callId: 's1', kioskId: 'south-1', ringStartedAt: 2 });
    server.store.recordCallStart({ callId: 'n2', kioskId: 'north-1', ringStartedAt: 3 });

    const ids = async (cookie: string, query = '') =>
      (await get(`/api/calls${query}`, cookie))
        .json<{ calls: { callId: string }[] }>()
        .calls.map((call) => call.callId);

    expect(await ids(admin)).toEqual(['n2', 's1', 'n1']);
    expect(await ids(wang)).toEqual(['n2', 'n1']);
    expect(await ids(admin, '?limit=1')).toEqual(['n2']);
    expect((await get('/api/calls', wang)).json()).toMatchObject({
      calls: [
        { callId: 'n2', outcome: 'live', endedAt: null, guard: null, endReason: null },
        { callId: 'n1', kioskName: 'North 1', outcome: 'missed', endedAt: 5, endReason: 'missed' },
      ],
    });
    expect((await get('/api/calls')).statusCode).toBe(401);
  });

  it('refuses a limit outside 1 to 500 with bad_payload', async () => {
    server = await makeServer();
    const { admin } = await accounts();

    for (const limit of ['0', '501', 'many', '2.5', '']) {
      const response = await get(`/api/calls?limit=${limit}`, admin);
      expect([limit, response.statusCode, response.json()]).toMatchObject([
        limit,
        400,
        { error: { code: 'bad_payload', message: textMatching(/^limit: /) } },
      ]);
    }
    expect((await get('/api/calls?limit=500', admin)).statusCode).toBe(200);
  });
});

describe('pass issuing', () => {
  /** A site key in a scratch folder and a server configured to sign with it. */
  async function withKey(
    gates?: string[],
  ): Promise<{ keys: SiteKeyPair; admin: string; wang: string }> {
    const folder = await scratch();
    const keys = await generateSiteKeys();
    await writeFile(join(folder, 'site-private.jwk.json'), JSON.stringify(keys.privateJwk));
    const passes = { site: 'riverside', privateKeyFile: 'site-private.jwk.json', gates };
    server = await makeServer({ passes }, { baseDir: folder });
    const { admin, wang } = await accounts();
    return { keys, admin, wang };
  }

  it('signs a pass the site’s kiosks accept, valid for the hours asked, and audits it', async () => {
    const { keys, wang } = await withKey();
    const body = { visitorName: '王小明', hostUnit: '3-1202', validHours: 4, entries: 2 };

    const response = await post('/api/passes', body, wang);

    expect(response.statusCode).toBe(201);
    const issued = response.json<{ passId: string; token: string; expiresAt: number }>();
    const now = current().clock.now;
    expect(issued.expiresAt).toBe(Math.floor(now / 1000) * 1000 + 4 * 3_600_000);
    const verdict = await verifyPass(issued.token, {
      publicKeys: [keys.publicJwk],
      site: 'riverside',
      gate: 'main-gate',
      now,
      clockSkewSeconds: 0,
      usesOf: () => 1,
    });
    expect(verdict).toMatchObject({
      ok: true,
      entriesLeft: 1,
      pass: { passId: issued.passId, hostUnit: '3-1202', maskedName: '王**', entries: 2 },
    });

    const audit = current().store.listAudit({ action: 'pass.issued' });
    expect(audit).toMatchObject([
      { actor: 'guard:wang', detail: { passId: issued.passId, hostUnit: '3-1202' } },
    ]);
    expect(JSON.stringify(audit)).not.toContain(issued.token);
    expect(JSON.stringify(audit)).not.toContain('小明');
  });

  it('defaults to 24 hours and one entry, and opens only the gate the guard names', async () => {
    const { keys, admin } = await withKey(['north', 'south']);

    const response = await post(
      '/api/passes',
      { visitorName: 'Li', hostUnit: '1-101', gate: 'south' },
      admin,
    );

    const issued = response.json<{ token: string; expiresAt: number }>();
    const now = current().clock.now;
    expect(issued.expiresAt).toBe(Math.floor(now / 1000) * 1000 + 24 * 3_600_000);
    const check = (gate: string) =>
      verifyPass(issued.token, {
        publicKeys: [keys.publicJwk],
        site: 'riverside',
        gate,
        now,
        clockSkewSeconds: 0,
        usesOf: () => 0,
      });
    expect(await check('south')).toMatchObject({ ok: true, entriesLeft: 1 });
    expect(await check('north')).toMatchObject({ ok: false, reason: 'wrong_gate' });
  });

  it('refuses bad input with a message naming each field, and a gate the site does not list', async () => {
    const { wang } = await withKey();

    const bad = await post(
      '/api/passes',
      { visitorName: ' ', validHours: 721, entries: 0, colour: 'red' },
      wang,
    );
    const wrongGate = await post(
      '/api/passes',
      { visitorName: 'Li', hostUnit: '1-101', gate: 'back-door' },
      wang,
    );

    expect(bad.statusCode).toBe(400);
    const message = bad.json<{ error: { message: string } }>().error.message;
    for (const field of ['visitorName', 'hostUnit', 'validHours', 'entries', '(body)']) {
      expect(message).toContain(`${field}:`);
    }
    expect(wrongGate.statusCode).toBe(400);
    expect(wrongGate.json()).toMatchObject({
      error: { code: 'bad_payload', message: textMatching(/back-door is not a gate/) },
    });
    expect(current().store.listAudit({ action: 'pass.issued' })).toEqual([]);
  });

  it('answers 503 not_configured when the server has no site key, and 401 without a session', async () => {
    server = await makeServer();
    const { wang } = await accounts();
    const body = { visitorName: 'Li', hostUnit: '1-101' };

    const response = await post('/api/passes', body, wang);

    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error: { code: 'not_configured' } });
    expect((await post('/api/passes', body)).statusCode).toBe(401);
  });

  it('refuses to start with a key file that is missing or not a private key', async () => {
    const folder = await scratch();
    const keys = await generateSiteKeys();
    await writeFile(join(folder, 'public.jwk.json'), JSON.stringify(keys.publicJwk));
    const store = openServerStore({ file: ':memory:' });

    try {
      for (const [file, problem] of [
        ['missing.jwk.json', /cannot read .*missing\.jwk\.json \(ENOENT\)/],
        ['public.jwk.json', /is not an Ed25519 private key/],
      ] as const) {
        const config = parseServerConfig({
          passes: { site: 'riverside', privateKeyFile: file },
        });
        await expect(buildServer({ store, config, baseDir: folder })).rejects.toThrow(problem);
      }
    } finally {
      store.close();
    }
  });
});
