import { describe, expect, it, vi } from 'vitest';
import { ApiError, createApi } from './api.js';

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

function apiAnswering(response: Response | Error) {
  const fetch = vi.fn((_path: string | URL | Request, _init?: RequestInit) =>
    response instanceof Error ? Promise.reject(response) : Promise.resolve(response),
  );
  const onUnauthorised = vi.fn();
  return {
    api: createApi({ fetch, onUnauthorised }),
    fetch,
    onUnauthorised,
  };
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

describe('createApi', () => {
  it('logs in with a JSON body on a path relative to the page', async () => {
    const guard = { id: 2, name: 'li', role: 'guard', disabled: false };
    const { api, fetch } = apiAnswering(jsonResponse(200, { guard, expiresAt: 1 }));

    await expect(api.login('li', 'secret password')).resolves.toEqual({
      id: 2,
      name: 'li',
      role: 'guard',
    });
    const [path, init] = fetch.mock.calls[0] ?? [];
    expect(path).toBe('api/login');
    expect(init).toMatchObject({ method: 'POST', credentials: 'same-origin' });
    expect(JSON.parse(init?.body as string)).toEqual({ name: 'li', password: 'secret password' });
  });

  it('turns a throttled login into a coded error with the wait', async () => {
    const body = { error: { code: 'throttled', message: 'too many failed logins' } };
    const { api } = apiAnswering(jsonResponse(429, body, { 'Retry-After': '8' }));

    const error = await failure(api.login('li', 'wrong'));

    expect(error).toMatchObject({
      status: 429,
      code: 'throttled',
      serverCode: 'throttled',
      retryAfterSeconds: 8,
    });
  });

  it('reports a 401 as an ended session', async () => {
    const body = { error: { code: 'unauthorised', message: 'log in first' } };
    const { api, onUnauthorised } = apiAnswering(jsonResponse(401, body));

    const error = await failure(api.me());

    expect(error.code).toBe('unauthorised');
    expect(onUnauthorised).toHaveBeenCalledOnce();
  });

  it('keeps a server code the shared list does not know, for its own message', async () => {
    const body = { error: { code: 'not_configured', message: 'pass issuing is not configured' } };
    const { api } = apiAnswering(jsonResponse(503, body));

    const error = await failure(
      api.issuePass({ visitorName: '王小明', hostUnit: '3-1202', validHours: 24, entries: 1 }),
    );

    expect(error).toMatchObject({ status: 503, code: 'internal', serverCode: 'not_configured' });
  });

  it('names an unreachable server `disconnected`', async () => {
    const { api } = apiAnswering(new TypeError('Failed to fetch'));

    const error = await failure(api.kiosks());

    expect(error).toMatchObject({ status: 0, code: 'disconnected' });
  });

  it('names a proxy error page by its status', async () => {
    const { api } = apiAnswering(new Response('<html>Bad gateway</html>', { status: 502 }));

    expect((await failure(api.calls(10))).serverCode).toBe('disconnected');
  });

  it('refuses an answer of the wrong shape', async () => {
    const { api } = apiAnswering(jsonResponse(200, { kiosks: [{ id: 'k1' }] }));

    expect((await failure(api.kiosks())).serverCode).toBe('bad_payload');
  });

  it('reads the call history with its limit', async () => {
    const call = {
      callId: 'c1',
      kioskId: 'k1',
      kioskName: 'North gate',
      ringStartedAt: 1,
      answeredAt: 2,
      endedAt: 3,
      guard: 'li',
      outcome: 'opened',
      endReason: 'hung_up_by_kiosk',
    };
    const { api, fetch } = apiAnswering(jsonResponse(200, { calls: [call] }));

    await expect(api.calls(30)).resolves.toEqual([call]);
    expect(fetch.mock.calls[0]?.[0]).toBe('api/calls?limit=30');
  });

  it('logs out without a body and accepts the empty answer', async () => {
    const { api, fetch } = apiAnswering(new Response(null, { status: 204 }));

    await expect(api.logout()).resolves.toBeUndefined();
    expect(fetch.mock.calls[0]?.[1]?.body).toBeUndefined();
  });
});
