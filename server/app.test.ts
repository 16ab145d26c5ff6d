import { afterEach, describe, expect, it } from 'vitest';
import { reachableUrl, sessionCookie } from './app.js';
import { textMatching } from './testing/matchers.js';
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

let server: TestServer;

afterEach(async () => {
  await server.close();
});

const post = (url: string, payload: unknown, cookie?: string) =>
  postAs(server.app, url, payload, cookie);

const get = (url: string, cookie?: string) => getAs(server.app, url, cookie);

async function addGuard(adminCookie: string, name: string, password: string): Promise<string> {
  const created = await post('/api/guards', { name, password }, adminCookie);
  expect(created.statusCode).toBe(201);

  return login(server.app, name, password);
}

describe('health check', () => {
  it('answers without a session with the server version and nothing else', async () => {
    server = await makeServer();

    const response = await get('/api/health');

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true, version: textMatching(/^\d+\.\d+\.\d+/) });
  });
});

describe('listening address', () => {
  it('turns a wildcard bind into loopback of the same family and keeps any other host', () => {
    expect(reachableUrl('0.0.0.0', 8781)).toBe('http://127.0.0.1:8781');
    expect(reachableUrl('::', 8781)).toBe('http://[::1]:8781');
    expect(reachableUrl('192.168.1.20', 8781)).toBe('http://192.168.1.20:8781');
    expect(reachableUrl('fd00::5', 8781)).toBe('http://[fd00::5]:8781');
  });
});

describe('guard login', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie and /api/me names the guard', async () => {
    server = await makeServer();

    const response = await post('/api/login', { name: adminName, password: adminPassword });
    const cookie = response.cookies.find((entry) => entry.name === sessionCookie);

    expect(response.statusCode).toBe(200);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    const me = await get('/api/me', `${sessionCookie}=${cookie?.value}`);
    expect(me.json()).toMatchObject({ guard: { name: adminName, role: 'admin' } });
  });

  it('refuses a wrong password and an unknown name alike, and audits both', async () => {
    server = await makeServer();

    const wrong = await post('/api/login', { name: adminName, password: 'not the password' });
    const unknown = await post('/api/login', { name: 'nobody', password: 'not the password' });

    expect(wrong.statusCode).toBe(401);
    expect(unknown.json()).toEqual(wrong.json());
    expect(wrong.json()).toEqual({
      error: { code: 'unauthorised', message: 'wrong name or password' },
    });
    expect(server.store.listAudit({ action: 'guard.login_failed' }).map((e) => e.actor)).toEqual([
      adminName,
      'unknown',
    ]);
  });

  it('throttles a name after five failures, even with the right password, until the lockout passes', async () => {
    server = await makeServer();
    for (let i = 0; i < 5; i += 1) {
      expect(
        (await post('/api/login', { name: adminName, password: `guess ${i}` })).statusCode,
      ).toBe(401);
    }

    const locked = await post('/api/login', { name: adminName, password: adminPassword });
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toMatchObject({ error: { code: 'throttled' } });
    expect(locked.headers['retry-after']).toBe('1');

    server.clock.now += 1000;
    expect(
      (await post('/api/login', { name: adminName, password: adminPassword })).statusCode,
    ).toBe(200);
  });

  it('slows a spray of made-up names from one address without locking out a guard who logged in from it', async () => {
    server = await makeServer({ loginThrottle: { freeFailuresPerAddress: 8 } });
    const adminCookie = await login(server.app, adminName, adminPassword);
    await addGuard(adminCookie, 'wang', 'guard password 1');
    expect(
      (await post('/api/guards', { name: 'li', password: 'guard password 2' }, adminCookie))
        .statusCode,
    ).toBe(201);

    for (let round = 0; round < 3; round += 1) {
      for (const name of ['ann', 'bob', 'cid']) {
        await post('/api/login', { name, password: `guess ${round}` });
      }
    }

    const sprayer = await post('/api/login', { name: 'dan', password: 'guess 4' });
    expect([sprayer.statusCode, sprayer.headers['retry-after']]).toEqual([429, '1']);
    const known = await post('/api/login', { name: 'wang', password: 'guard password 1' });
    expect(known.statusCode).toBe(200);
    const stranger = await post('/api/login', { name: 'li', password: 'guard password 2' });
    expect(stranger.statusCode).toBe(429);
  });

  it('still locks a name that logged in from the address after five wrong passwords', async () => {
    server = await makeServer();
    await login(server.app, adminName, adminPassword);
    for (let i = 0; i < 5; i += 1) await post('/api/login', { name: adminName, password: `x${i}` });

    const locked = await post('/api/login', { name: adminName, password: adminPassword });

    expect(locked.statusCode).toBe(429);
  });

  it('throttles the address a trusted proxy names, not the proxy’s own', async () => {
    server = await makeServer({
      trustProxy: ['loopback'],
      loginThrottle: { freeFailuresPerAddress: 3 },
    });
    const from = (address: string, name: string, password: string) =>
      server.app.inject({
        method: 'POST',
        url: '/api/login',
        payload: { name, password },
        headers: { 'x-forwarded-for': address },
      });
    for (const name of ['ann', 'bob', 'cid']) await from('203.0.113.7', name, 'guess');

    expect((await from('203.0.113.7', 'dan', 'guess')).statusCode).toBe(429);
    expect((await from('203.0.113.8', adminName, adminPassword)).statusCode).toBe(200);
    expect(server.store.listAudit({ action: 'guard.login' }).at(-1)?.detail).toEqual({
      remote: '203.0.113.8',
    });
  });

  it('does not let wrong passwords from one address lock a guard out from another', async () => {
    server = await makeServer({ trustProxy: ['loopback'] });
    const adminCookie = await login(server.app, adminName, adminPassword);
    await post('/api/guards', { name: 'victim', password: 'guard password 1' }, adminCookie);
    const from = (address: string, password: string) =>
      server.app.inject({
        method: 'POST',
        url: '/api/login',
        payload: { name: 'victim', password },
        headers: { 'x-forwarded-for': address },
      });
    for (let i = 0; i < 5; i += 1) await from('10.0.0.66', `guess ${i}`);

    const guard = await from('10.0.0.5', 'guard password 1');
    const stranger = await from('10.0.0.66', 'guard password 1');

    expect(guard.statusCode).toBe(200);
    expect([stranger.statusCode, stranger.headers['retry-after']]).toEqual([429, '1']);
  });

  it('takes the address one hop before the server when trustProxy is a hop count of 1', async () => {
    server = await makeServer({ trustProxy: 1 });

    const response = await server.app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { name: adminName, password: adminPassword },
      headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' },
    });

    expect(response.statusCode).toBe(200);
    expect(server.store.listAudit({ action: 'guard.login' }).at(-1)?.detail).toEqual({
      remote: '203.0.113.7',
    });
  });

  it('ignores X-Forwarded-For unless a proxy is trusted', async () => {
    server = await makeServer({ loginThrottle: { freeFailuresPerAddress: 3 } });
    const forwarded = (address: string, name: string) =>
      server.app.inject({
        method: 'POST',
        url: '/api/login',
        payload: { name, password: 'guess' },
        headers: { 'x-forwarded-for': address },
      });
    for (const [index, name] of ['ann', 'bob', 'cid'].entries()) {
      await forwarded(`203.0.113.${index + 1}`, name);
    }

    expect((await forwarded('203.0.113.9', 'dan')).statusCode).toBe(429);
    expect(server.store.listAudit({ action: 'guard.login_failed' }).at(-1)?.detail).toEqual({
      remote: '127.0.0.1',
    });
  });

  it('ends a session when it expires, judged by the server clock', async () => {
    server = await makeServer({ sessionHours: 12 });
    const cookie = await login(server.app, adminName, adminPassword);

    server.clock.now += 12 * 3_600_000 - 1;
    expect((await get('/api/me', cookie)).statusCode).toBe(200);

    server.clock.now += 1;
    const expired = await get('/api/me', cookie);
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toMatchObject({ error: { code: 'unauthorised' } });
  });

  it('ends a session on logout and clears the cookie', async () => {
    server = await makeServer();
    const cookie = await login(server.app, adminName, adminPassword);

    const logout = await post('/api/logout', undefined, cookie);

    expect(logout.statusCode).toBe(204);
    expect(logout.cookies.find((entry) => entry.name === sessionCookie)?.value).toBe('');
    expect((await get('/api/me', cookie)).statusCode).toBe(401);
  });
});

describe('admin routes', () => {
  it('refuse a guard with forbidden and an anonymous caller with unauthorised', async () => {
    server = await makeServer();
    const adminCookie = await login(server.app, adminName, adminPassword);
    const guardCookie = await addGuard(adminCookie, 'wang', 'guard password 1');

    const routes: [string, string, unknown][] = [
      ['GET', '/api/guards', undefined],
      ['POST', '/api/guards', { name: 'li', password: 'guard password 2' }],
      ['GET', '/api/ring-groups', undefined],
      ['POST', '/api/kiosks', { id: 'north-1', name: 'North 1' }],
      ['POST', '/api/kiosks/north-1/revoke', undefined],
      ['POST', '/api/ring-groups', { id: 'north', name: 'North', guardIds: [] }],
    ];
    for (const [method, url, payload] of routes) {
      const asGuard = await server.app.inject({
        method: method as 'GET',
        url,
        payload: payload as Record<string, unknown>,
        headers: { cookie: guardCookie },
      });
      const anonymous = await server.app.inject({
        method: method as 'GET',
        url,
        payload: payload as Record<string, unknown>,
      });

      expect([
        url,
        asGuard.statusCode,
        asGuard.json<{ error: { code: string } }>().error.code,
      ]).toEqual([url, 403, 'forbidden']);
      expect([url, anonymous.statusCode]).toEqual([url, 401]);
    }
    expect(server.store.listGuards().map((guard) => guard.name)).toEqual(['admin', 'wang']);
    expect(server.store.listKiosks()).toEqual([]);
  });

  it('enrol a kiosk, return its secret once, and list it without the secret', async () => {
    server = await makeServer();
    const adminCookie = await login(server.app, adminName, adminPassword);

    const secret = await enrolKiosk(server.app, adminCookie, 'north-1');
    const listed = await get('/api/kiosks', adminCookie);

    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(listed.body).not.toContain(secret);
    expect(listed.json()).toEqual({
      kiosks: [
        {
          id: 'north-1',
          name: 'Kiosk north-1',
          revoked: false,
          ringGroup: null,
          online: false,
          connectedAt: null,
          lastSeenAt: null,
          version: null,
        },
      ],
    });
    const again = await post('/api/kiosks', { id: 'north-1', name: 'Again' }, adminCookie);
    expect(again.statusCode).toBe(409);
  });

  it('save a ring group of existing guards and refuse one naming a missing guard', async () => {
    server = await makeServer();
    const adminCookie = await login(server.app, adminName, adminPassword);
    const guards = await get('/api/guards', adminCookie);
    const adminId = guards.json<{ guards: { id: number }[] }>().guards[0]?.id;

    const saved = await post(
      '/api/ring-groups',
      { id: 'north', name: 'North', guardIds: [adminId] },
      adminCookie,
    );
    const missing = await post(
      '/api/ring-groups',
      { id: 'south', name: 'South', guardIds: [404] },
      adminCookie,
    );

    expect(saved.statusCode).toBe(200);
    expect(missing.statusCode).toBe(404);
    expect((await get('/api/ring-groups', adminCookie)).json()).toEqual({
      ringGroups: [{ id: 'north', name: 'North', guardIds: [adminId] }],
    });
  });

  it('list guards for admins with when each was created, never with a password hash', async () => {
    server = await makeServer();
    const adminCookie = await login(server.app, adminName, adminPassword);
    const startedAt = server.clock.now;
    server.clock.now += 60_000;
    await post('/api/guards', { name: 'wang', password: 'guard password 1' }, adminCookie);

    const listed = await get('/api/guards', adminCookie);
    const [adminId, wangId] = server.store.listGuards().map((guard) => guard.id);

    // An exact match: a password hash or any other extra field fails it.
    expect(listed.json()).toEqual({
      guards: [
        {
          id: adminId,
          name: adminName,
          role: 'admin',
          disabled: false,
          createdAt: startedAt,
        },
        {
          id: wangId,
          name: 'wang',
          role: 'guard',
          disabled: false,
          createdAt: startedAt + 60_000,
        },
      ],
    });
  });
});

describe('errors', () => {
  it('name each bad field of a body with bad_payload', async () => {
    server = await makeServer();
    const adminCookie = await login(server.app, adminName, adminPassword);

    const response = await post(
      '/api/guards',
      { name: 'a b', password: 'short', extra: 1 },
      adminCookie,
    );

    expect(response.statusCode).toBe(400);
    const { error } = response.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe('bad_payload');
    expect(error.message).toMatch(/name: letters/);
    expect(error.message).toMatch(/password: at least 10 characters/);
  });

  it('answer broken JSON, unknown routes and server faults with a code and no stack', async () => {
    server = await makeServer();
    const adminCookie = await login(server.app, adminName, adminPassword);

    const broken = await server.app.inject({
      method: 'POST',
      url: '/api/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":',
    });
    const missing = await get('/api/nothing-here');
    server.store.close();
    const fault = await get('/api/guards', adminCookie);

    expect([broken.statusCode, broken.json<{ error: { code: string } }>().error.code]).toEqual([
      400,
      'bad_payload',
    ]);
    expect(missing.json()).toMatchObject({ error: { code: 'not_found' } });
    expect(fault.statusCode).toBe(500);
    expect(fault.json()).toEqual({ error: { code: 'store_failed', message: 'internal error' } });
    for (const response of [broken, missing, fault]) expect(response.body).not.toMatch(/\n\s+at /);
  });
});
