import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api.js';
import { createAdminApi } from './api.js';

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

function apiAnswering(response: Response) {
  const fetch = vi.fn((_path: string | URL | Request, _init?: RequestInit) =>
    Promise.resolve(response),
  );
  const onUnauthorised = vi.fn();
  return { api: createAdminApi({ fetch, onUnauthorised }), fetch, onUnauthorised };
}

function sent(fetch: ReturnType<typeof apiAnswering>['fetch']): { path: unknown; body: unknown } {
  const [path, init] = fetch.mock.calls[0] ?? [];
  return { path, body: init?.body === undefined ? undefined : JSON.parse(init.body as string) };
}

describe('createAdminApi', () => {
  it('lists guards with their role, state and creation time', async () => {
    const guard = { id: 1, name: 'admin', role: 'admin', disabled: false, createdAt: 5 };
    const { api, fetch } = apiAnswering(jsonResponse(200, { guards: [guard] }));

    await expect(api.guards()).resolves.toEqual([guard]);
    expect(fetch.mock.calls[0]?.[0]).toBe('api/guards');
  });

  it('creates a guard with a JSON body and returns the new id', async () => {
    const guard = { id: 7, name: 'li', role: 'guard', disabled: false };
    const { api, fetch } = apiAnswering(jsonResponse(201, { guard }));

    await expect(
      api.createGuard({ name: 'li', password: 'a long password', role: 'guard' }),
    ).resolves.toBe(7);
    expect(sent(fetch)).toEqual({
      path: 'api/guards',
      body: { name: 'li', password: 'a long password', role: 'guard' },
    });
  });

  it('turns a taken name into a conflict error', async () => {
    const body = { error: { code: 'conflict', message: 'a guard with this name exists' } };
    const { api } = apiAnswering(jsonResponse(409, body));

    const error = await api
      .createGuard({ name: 'li', password: 'x'.repeat(10), role: 'guard' })
      .then(
        () => null,
        (caught: unknown) => caught,
      );

    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: 'conflict' });
  });

  it('enrols a kiosk and hands back its secret', async () => {
    const answer = {
      kiosk: { id: 'north-1', name: 'North', ringGroup: null, revoked: false },
      secret: 's',
    };
    const { api, fetch } = apiAnswering(jsonResponse(201, answer));

    await expect(
      api.enrolKiosk({ id: 'north-1', name: 'North', ringGroup: null }),
    ).resolves.toEqual({
      kiosk: { id: 'north-1', name: 'North', ringGroup: null },
      secret: 's',
    });
    expect(sent(fetch)).toEqual({
      path: 'api/kiosks',
      body: { id: 'north-1', name: 'North', ringGroup: null },
    });
  });

  it('refuses an enrolment answer without a secret', async () => {
    const { api } = apiAnswering(
      jsonResponse(201, { kiosk: { id: 'north-1', name: 'North', ringGroup: null } }),
    );

    await expect(
      api.enrolKiosk({ id: 'north-1', name: 'North', ringGroup: null }),
    ).rejects.toMatchObject({
      serverCode: 'bad_payload',
    });
  });

  it('revokes a kiosk with an empty POST and accepts the empty answer', async () => {
    const { api, fetch } = apiAnswering(new Response(null, { status: 204 }));

    await expect(api.revokeKiosk('north-1')).resolves.toBeUndefined();
    expect(fetch.mock.calls[0]?.[0]).toBe('api/kiosks/north-1/revoke');
    expect(fetch.mock.calls[0]?.[1]).toMatchObject({ method: 'POST', body: undefined });
  });

  it('reads kiosks with their ring group, which only admins are sent', async () => {
    const kiosk = {
      id: 'north-1',
      name: 'North',
      online: true,
      connectedAt: 1,
      lastSeenAt: 1,
      version: '0.1.0',
      revoked: false,
      ringGroup: 'north',
    };
    const { api } = apiAnswering(jsonResponse(200, { kiosks: [kiosk] }));

    await expect(api.kiosks()).resolves.toEqual([
      { id: 'north-1', name: 'North', online: true, revoked: false, ringGroup: 'north' },
    ]);
  });

  it('saves a ring group whole and lists ring groups', async () => {
    const group = { id: 'north', name: 'North', guardIds: [1, 2] };
    const saving = apiAnswering(jsonResponse(200, { ringGroup: group }));
    const listing = apiAnswering(jsonResponse(200, { ringGroups: [group] }));

    await saving.api.saveRingGroup(group);

    expect(sent(saving.fetch)).toEqual({ path: 'api/ring-groups', body: group });
    await expect(listing.api.ringGroups()).resolves.toEqual([group]);
  });

  it('changes a guard with a PATCH to their encoded name and reads the account back', async () => {
    const guard = { id: 3, name: '王小明', role: 'guard', disabled: true, createdAt: 5 };
    const { api, fetch } = apiAnswering(jsonResponse(200, { guard }));

    await expect(api.updateGuard('王小明', { disabled: true })).resolves.toEqual(guard);
    expect(sent(fetch)).toEqual({
      path: 'api/guards/%E7%8E%8B%E5%B0%8F%E6%98%8E',
      body: { disabled: true },
    });
    expect(fetch.mock.calls[0]?.[1]).toMatchObject({
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
    });
  });

  it('hands on the refusal to change the last active admin as a conflict', async () => {
    const message = 'admin is the last active admin: make another guard an admin first';
    const { api } = apiAnswering(jsonResponse(409, { error: { code: 'conflict', message } }));

    await expect(api.updateGuard('admin', { role: 'guard' })).rejects.toMatchObject({
      status: 409,
      code: 'conflict',
      message,
    });
  });

  it('renames a kiosk or moves it out of every ring group with a PATCH', async () => {
    const kiosk = { id: 'north-1', name: 'North', revoked: false, ringGroup: null };
    const { api, fetch } = apiAnswering(jsonResponse(200, { kiosk }));

    await expect(api.updateKiosk('north-1', { name: 'North', ringGroup: null })).resolves.toEqual(
      kiosk,
    );
    expect(sent(fetch)).toEqual({
      path: 'api/kiosks/north-1',
      body: { name: 'North', ringGroup: null },
    });
    expect(fetch.mock.calls[0]?.[1]).toMatchObject({ method: 'PATCH' });
  });

  it('deletes a ring group with a DELETE and no body', async () => {
    const { api, fetch } = apiAnswering(new Response(null, { status: 204 }));

    await expect(api.deleteRingGroup('north')).resolves.toBeUndefined();
    expect(fetch.mock.calls[0]?.[0]).toBe('api/ring-groups/north');
    expect(fetch.mock.calls[0]?.[1]).toMatchObject({ method: 'DELETE' });
    expect(fetch.mock.calls[0]?.[1]?.body).toBeUndefined();
  });

  it('turns a ring group still in use into a conflict error', async () => {
    const body = { error: { code: 'conflict', message: 'ring group north still rings' } };
    const { api } = apiAnswering(jsonResponse(409, body));

    await expect(api.deleteRingGroup('north')).rejects.toMatchObject({ code: 'conflict' });
  });

  it('reports a 401 as an ended session', async () => {
    const body = { error: { code: 'unauthorised', message: 'log in first' } };
    const { api, onUnauthorised } = apiAnswering(jsonResponse(401, body));

    await expect(api.ringGroups()).rejects.toMatchObject({ code: 'unauthorised' });
    expect(onUnauthorised).toHaveBeenCalledOnce();
  });
});
