import { afterEach, describe, expect, it } from 'vitest';
import { guardCloseCodes } from '../app/contract/intercom-protocol.js';
import { deleteAs, getAs, login, patchAs, postAs } from './testing/fixtures.js';
import { guardPasswords, startCallSite, untaken, type CallSite } from './testing/call-site.js';

let site: CallSite | undefined;

afterEach(async () => {
  await site?.close();
  site = undefined;
});

/** A site with the admin, guards anna and ben (ring group `gate`) and carl (ring group `back`). */
async function start(): Promise<CallSite> {
  site = await startCallSite();
  return site;
}

function current(): CallSite {
  if (!site) throw new Error('no site');
  return site;
}

/** The session cookie of a guard the site logged in. */
function cookieOf(name: string): string {
  return current().cookies[name] ?? '';
}

const app = () => current().running.app;
const get = (url: string, cookie?: string) => getAs(app(), url, cookie);
const post = (url: string, payload: unknown, cookie?: string) =>
  postAs(app(), url, payload, cookie);
const patch = (url: string, payload: unknown, cookie = cookieOf('admin')) =>
  patchAs(app(), url, payload, cookie);
const remove = (url: string, cookie = cookieOf('admin')) => deleteAs(app(), url, cookie);

/** Actor and detail of every audit line of `action`, oldest first. */
function audited(action: string) {
  return current()
    .store.listAudit({ action })
    .map(({ actor, detail }) => ({ actor, detail }));
}

function guardNamed(name: string) {
  return current()
    .store.listGuards()
    .find((guard) => guard.name === name);
}

function errorOf(response: { json: <T>() => T }): { code: string; message: string } {
  return response.json<{ error: { code: string; message: string } }>().error;
}

describe('PATCH /api/guards/:name', () => {
  it('disables a guard: their login is refused, their session ends and their console closes at once', async () => {
    const { guard } = await start();
    const anna = await guard('anna');

    const response = await patch('/api/guards/anna', { disabled: true });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ guard: guardNamed('anna') });
    expect(guardNamed('anna')).toMatchObject({ name: 'anna', role: 'guard', disabled: true });
    await expect(anna.closed).resolves.toBe(guardCloseCodes.sessionEnded);
    expect((await get('/api/me', cookieOf('anna'))).statusCode).toBe(401);
    const again = await post('/api/login', { name: 'anna', password: guardPasswords.anna });
    expect(again.statusCode).toBe(401);
    expect(audited('guard.disabled')).toEqual([
      { actor: 'admin', detail: { guard: 'anna', sessionsEnded: 1 } },
    ]);
  });

  it('keeps the consoles of other guards open when one is disabled', async () => {
    const { guard } = await start();
    const ben = await guard('ben');

    await patch('/api/guards/anna', { disabled: true });

    await ben.sync();
    expect(ben.socket.readyState).toBe(ben.socket.OPEN);
  });

  it('ends the call a guard holds when they are disabled, so the visitor is not left waiting', async () => {
    const { guard, kiosk } = await start();
    const anna = await guard('anna');
    const north = await kiosk('north-1');
    north.send({ type: 'call' });
    const { callId } = await north.take('ringing');
    anna.send({ type: 'answer', callId });
    await north.take('answered');

    await patch('/api/guards/anna', { disabled: true });

    await expect(north.take('ended')).resolves.toMatchObject({ callId, reason: 'guard_left' });
  });

  it('re-enables a guard, who logs in again while the session cut off stays ended', async () => {
    await start();
    await patch('/api/guards/anna', { disabled: true });

    const response = await patch('/api/guards/anna', { disabled: false });

    expect(response.json()).toMatchObject({ guard: { name: 'anna', disabled: false } });
    expect((await get('/api/me', cookieOf('anna'))).statusCode).toBe(401);
    const fresh = await login(app(), 'anna', guardPasswords.anna ?? '');
    expect((await get('/api/me', fresh)).statusCode).toBe(200);
    expect(audited('guard.enabled')).toEqual([{ actor: 'admin', detail: { guard: 'anna' } }]);
  });

  it('changes a role both ways, at once for the live session, and audits from and to', async () => {
    await start();

    await patch('/api/guards/anna', { role: 'admin' });
    expect((await get('/api/guards', cookieOf('anna'))).statusCode).toBe(200);

    await patch('/api/guards/anna', { role: 'guard' });
    expect((await get('/api/guards', cookieOf('anna'))).statusCode).toBe(403);
    expect(audited('guard.role_changed')).toEqual([
      { actor: 'admin', detail: { guard: 'anna', from: 'guard', to: 'admin' } },
      { actor: 'admin', detail: { guard: 'anna', from: 'admin', to: 'guard' } },
    ]);
  });

  it('resets a password: the old one is refused, the new one works, the guard’s sessions end', async () => {
    const { guard } = await start();
    const anna = await guard('anna');
    const password = 'a brand new password';

    const response = await patch('/api/guards/anna', { password });

    expect(response.statusCode).toBe(200);
    await expect(anna.closed).resolves.toBe(guardCloseCodes.sessionEnded);
    const old = await post('/api/login', { name: 'anna', password: guardPasswords.anna });
    expect(old.statusCode).toBe(401);
    expect((await post('/api/login', { name: 'anna', password })).statusCode).toBe(200);
    expect(audited('guard.password_reset')).toEqual([
      { actor: 'admin', detail: { guard: 'anna', sessionsEnded: 1 } },
    ]);
    expect(JSON.stringify(current().store.listAudit({ limit: 1000 }))).not.toContain(password);
  });

  it('keeps the session an admin resets their own password in and ends their others', async () => {
    await start();
    const other = await login(app(), 'admin', 'correct horse battery');

    await patch('/api/guards/admin', { password: 'the admin’s new password' });

    expect((await get('/api/me', cookieOf('admin'))).statusCode).toBe(200);
    expect((await get('/api/me', other)).statusCode).toBe(401);
  });

  it('refuses to disable or demote the last active admin, and changes nothing', async () => {
    await start();

    const disable = await patch('/api/guards/admin', { disabled: true });
    const demote = await patch('/api/guards/admin', { role: 'guard' });

    for (const response of [disable, demote]) {
      expect(response.statusCode).toBe(409);
      expect(errorOf(response)).toEqual({
        code: 'conflict',
        message: 'admin is the last active admin: make another guard an admin first',
      });
    }
    expect(guardNamed('admin')).toMatchObject({ role: 'admin', disabled: false });
    expect((await get('/api/me', cookieOf('admin'))).statusCode).toBe(200);
    expect(audited('guard.disabled')).toEqual([]);
  });

  it('counts only enabled admins, and lets an admin step down once another is active', async () => {
    await start();
    await patch('/api/guards/anna', { role: 'admin', disabled: true });

    expect((await patch('/api/guards/admin', { role: 'guard' })).statusCode).toBe(409);

    await patch('/api/guards/anna', { disabled: false });
    const stepDown = await patch('/api/guards/admin', { role: 'guard' });
    expect(stepDown.json()).toMatchObject({ guard: { name: 'admin', role: 'guard' } });
  });

  it('refuses an empty change, an unknown field, a short password and an unknown guard', async () => {
    await start();

    const empty = await patch('/api/guards/anna', {});
    const unknownField = await patch('/api/guards/anna', { name: 'anne' });
    const short = await patch('/api/guards/anna', { password: 'short' });
    const nobody = await patch('/api/guards/nobody', { disabled: true });

    expect(errorOf(empty)).toEqual({
      code: 'bad_payload',
      message: '(body): name at least one field to change',
    });
    expect([unknownField.statusCode, errorOf(unknownField).code]).toEqual([400, 'bad_payload']);
    expect(errorOf(short).message).toBe('password: at least 10 characters');
    expect([nobody.statusCode, errorOf(nobody).code]).toEqual([404, 'not_found']);
    expect(guardNamed('anna')).toMatchObject({ name: 'anna', disabled: false });
  });
});

describe('admin changes', () => {
  it('refuse a guard with forbidden and an anonymous caller with unauthorised', async () => {
    await start();
    const changes: [string, unknown][] = [
      ['/api/guards/ben', { disabled: true }],
      ['/api/kiosks/north-1', { name: 'Gate' }],
    ];

    for (const [url, payload] of changes) {
      expect((await patch(url, payload, cookieOf('anna'))).statusCode).toBe(403);
      expect((await patchAs(app(), url, payload)).statusCode).toBe(401);
    }
    expect((await remove('/api/ring-groups/back', cookieOf('anna'))).statusCode).toBe(403);
    expect((await deleteAs(app(), '/api/ring-groups/back')).statusCode).toBe(401);
    expect(guardNamed('ben')?.disabled).toBe(false);
    expect(
      current()
        .store.listKiosks()
        .map((kiosk) => kiosk.name),
    ).toContain('North gate');
    expect(
      current()
        .store.listRingGroups()
        .map((group) => group.id),
    ).toEqual(['back', 'gate']);
  });
});

describe('PATCH /api/kiosks/:id', () => {
  it('renames a kiosk and moves it to another ring group, audited with what changed', async () => {
    await start();

    const response = await patch('/api/kiosks/north-1', {
      name: 'North gate (east)',
      ringGroup: 'back',
    });

    expect(response.json()).toEqual({
      kiosk: { id: 'north-1', name: 'North gate (east)', revoked: false, ringGroup: 'back' },
    });
    expect(
      current()
        .store.listKiosks()
        .find((kiosk) => kiosk.id === 'north-1'),
    ).toMatchObject({
      name: 'North gate (east)',
      ringGroup: 'back',
    });
    expect(audited('kiosk.updated')).toEqual([
      {
        actor: 'admin',
        detail: {
          kioskId: 'north-1',
          name: { from: 'North gate', to: 'North gate (east)' },
          ringGroup: { from: 'gate', to: 'back' },
        },
      },
    ]);
  });

  it('takes a kiosk out of every ring group with null and changes only what is named', async () => {
    await start();

    const response = await patch('/api/kiosks/south-1', { ringGroup: null });

    expect(response.json()).toMatchObject({ kiosk: { name: 'South gate', ringGroup: null } });
    expect(audited('kiosk.updated')[0]?.detail).toEqual({
      kioskId: 'south-1',
      ringGroup: { from: 'gate', to: null },
    });
  });

  it('lets a live call keep its ring group; the next call rings the new group with the new name', async () => {
    const { guard, kiosk } = await start();
    const anna = await guard('anna');
    const carl = await guard('carl');
    const north = await kiosk('north-1');
    north.send({ type: 'call' });
    const { callId } = await north.take('ringing');
    await anna.take('ringing', (message) => message.callId === callId);

    await patch('/api/kiosks/north-1', { name: 'North gate (east)', ringGroup: 'back' });
    anna.send({ type: 'answer', callId });

    await expect(north.take('answered')).resolves.toMatchObject({ callId, guard: 'anna' });
    expect(await untaken(carl, 'ringing')).toEqual([]);
    anna.send({ type: 'hangup', callId });
    await north.take('ended');

    north.send({ type: 'call' });
    const next = await north.take('ringing');
    await expect(carl.take('ringing')).resolves.toMatchObject({
      callId: next.callId,
      kioskName: 'North gate (east)',
    });
    expect(await untaken(anna, 'ringing')).toEqual([]);
  });

  it('refuses an unknown kiosk and an unknown ring group with not_found, changing nothing', async () => {
    await start();

    const nokiosk = await patch('/api/kiosks/west-9', { name: 'West' });
    const nogroup = await patch('/api/kiosks/north-1', { name: 'North', ringGroup: 'nowhere' });
    const empty = await patch('/api/kiosks/north-1', {});

    expect([nokiosk.statusCode, errorOf(nokiosk).code]).toEqual([404, 'not_found']);
    expect([nogroup.statusCode, errorOf(nogroup)]).toEqual([
      404,
      { code: 'not_found', message: 'no such ring group' },
    ]);
    expect(empty.statusCode).toBe(400);
    expect(
      current()
        .store.listKiosks()
        .find((kiosk) => kiosk.id === 'north-1'),
    ).toMatchObject({
      name: 'North gate',
      ringGroup: 'gate',
    });
    expect(audited('kiosk.updated')).toEqual([]);
  });
});

describe('POST /api/kiosks/:id/revoke', () => {
  it('answers a second revoke as done without a second audit entry, and an unknown kiosk with not_found', async () => {
    await start();
    const revoke = (id: string) => post(`/api/kiosks/${id}/revoke`, undefined, cookieOf('admin'));

    expect((await revoke('north-1')).statusCode).toBe(204);
    expect((await revoke('north-1')).statusCode).toBe(204);
    const unknown = await revoke('west-9');

    expect(audited('kiosk.revoked')).toEqual([{ actor: 'admin', detail: { kioskId: 'north-1' } }]);
    expect([unknown.statusCode, errorOf(unknown).code]).toEqual([404, 'not_found']);
  });
});

describe('DELETE /api/ring-groups/:id', () => {
  it('refuses while a kiosk rings the group, and deletes it once the kiosk moved', async () => {
    await start();

    const refused = await remove('/api/ring-groups/back');

    expect(refused.statusCode).toBe(409);
    expect(errorOf(refused)).toEqual({
      code: 'conflict',
      message: 'ring group back still rings for kiosks back-1: move them to another group first',
    });
    expect(
      current()
        .store.listRingGroups()
        .map((group) => group.id),
    ).toEqual(['back', 'gate']);

    await patch('/api/kiosks/back-1', { ringGroup: 'gate' });
    const deleted = await remove('/api/ring-groups/back');

    expect(deleted.statusCode).toBe(204);
    expect(
      current()
        .store.listRingGroups()
        .map((group) => group.id),
    ).toEqual(['gate']);
    expect(audited('ring_group.deleted')).toEqual([
      { actor: 'admin', detail: { ringGroupId: 'back', name: 'Back' } },
    ]);
  });

  it('is not held by a revoked kiosk, and answers an unknown group with not_found', async () => {
    await start();
    await post('/api/kiosks/back-1/revoke', undefined, cookieOf('admin'));

    expect((await remove('/api/ring-groups/back')).statusCode).toBe(204);
    const kiosk = current()
      .store.listKiosks()
      .find((candidate) => candidate.id === 'back-1');
    expect(kiosk).toMatchObject({ revoked: true, ringGroup: null });
    const unknown = await remove('/api/ring-groups/back');
    expect([unknown.statusCode, errorOf(unknown).code]).toEqual([404, 'not_found']);
  });
});
