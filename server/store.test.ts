import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../app/core/migrations.js';
import { callOutcome, openServerStore, serverMigrations, type ServerStore } from './store.js';

let folder: string;
let file: string;
const opened: ServerStore[] = [];

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'intercom-store-'));
  file = join(folder, 'intercom.db');
});

afterEach(async () => {
  for (const store of opened.splice(0)) store.close();
  await rm(folder, { recursive: true, force: true });
});

function open(key?: string): ServerStore {
  const store = openServerStore({ file, key });
  opened.push(store);
  return store;
}

describe('server store', () => {
  it('creates the schema once, in WAL mode with full syncs, and reopens without migrating again', () => {
    open().close();
    const store = open();
    store.createGuard('wang', 'scrypt$1$1$1$a$b', 'guard', 1);

    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.pragma('user_version', { simple: true })).toBe(serverMigrations.length);
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
    expect(store.listGuards().map((guard) => guard.name)).toEqual(['wang']);
  });

  it('encrypts the file when a key is given, so it cannot be read without it', () => {
    open('a long enough store key').createGuard('li', 'scrypt$1$1$1$a$b', 'admin', 1);
    for (const store of opened.splice(0)) store.close();

    expect(() => open('a different store key')).toThrow(/wrong key/);
    expect(open('a long enough store key').hasAdmin()).toBe(true);
  });

  it('refuses a second guard of the same name with conflict', () => {
    const store = open();
    store.createGuard('zhao', 'h', 'guard', 1);

    expect(() => store.createGuard('zhao', 'h', 'admin', 2)).toThrow(
      expect.objectContaining({ code: 'conflict' }),
    );
  });

  it('finds the guards a kiosk rings through its ring group, leaving disabled guards out', () => {
    const store = open();
    const wang = store.createGuard('wang', 'h', 'guard', 1);
    const li = store.createGuard('li', 'h', 'guard', 1);
    store.createGuard('zhao', 'h', 'guard', 1);
    store.saveRingGroup({ id: 'north', name: 'North gate', guardIds: [wang.id, li.id] });
    store.createKiosk({ id: 'north-1', name: 'North 1', ringGroup: 'north' }, 'hash', 1);

    expect(store.guardsForKiosk('north-1').map((guard) => guard.name)).toEqual(['li', 'wang']);
    expect(store.listRingGroups()).toEqual([
      { id: 'north', name: 'North gate', guardIds: [wang.id, li.id] },
    ]);
  });

  it('refuses a ring group naming a guard that does not exist with not_found', () => {
    const store = open();

    expect(() => store.saveRingGroup({ id: 'south', name: 'South', guardIds: [99] })).toThrow(
      expect.objectContaining({ code: 'not_found' }),
    );
    expect(store.listRingGroups()).toEqual([]);
  });

  it('gives a session only until it expires', () => {
    const store = open();
    const guard = store.createGuard('wang', 'h', 'guard', 1);
    store.createSession('token-hash', guard.id, 1000, 2000);

    expect(store.sessionGuard('token-hash', 1999)?.name).toBe('wang');
    expect(store.sessionGuard('token-hash', 2000)).toBeUndefined();
    expect(store.deleteExpiredSessions(2000)).toBe(1);
  });

  it('keeps audit details as JSON and lists the newest lines in order', () => {
    const store = open();
    for (let at = 1; at <= 5; at += 1) {
      store.appendAudit({
        at,
        action: at % 2 ? 'kiosk.refused' : 'guard.login',
        actor: 'x',
        detail: { at },
      });
    }

    expect(store.listAudit({ limit: 2 }).map((entry) => entry.at)).toEqual([4, 5]);
    expect(store.listAudit({ action: 'kiosk.refused' }).map((entry) => entry.detail)).toEqual([
      { at: 1 },
      { at: 3 },
      { at: 5 },
    ]);
  });
});

describe('call history', () => {
  /** Guards wang (ring group north) and li (south), kiosks north-1 and south-1. */
  function site(): { store: ServerStore; wang: number; li: number } {
    const store = open();
    const wang = store.createGuard('wang', 'h', 'guard', 1).id;
    const li = store.createGuard('li', 'h', 'guard', 1).id;
    store.saveRingGroup({ id: 'north', name: 'North', guardIds: [wang] });
    store.saveRingGroup({ id: 'south', name: 'South', guardIds: [li] });
    store.createKiosk({ id: 'north-1', name: 'North 1', ringGroup: 'north' }, 'hash', 1);
    store.createKiosk({ id: 'south-1', name: 'South 1', ringGroup: 'south' }, 'hash', 1);
    return { store, wang, li };
  }

  it('names the outcome: an open wins, a denial, an unanswered call missed unless cancelled', () => {
    const cases = [
      [{ answered: true, opened: true, reason: 'denied' }, 'opened'],
      [{ answered: true, opened: false, reason: 'denied' }, 'denied'],
      [{ answered: true, opened: false, reason: 'hung_up_by_guard' }, 'ended'],
      [{ answered: true, opened: false, reason: 'max_call_time' }, 'ended'],
      [{ answered: false, opened: false, reason: 'cancelled' }, 'cancelled'],
      [{ answered: false, opened: false, reason: 'missed' }, 'missed'],
      [{ answered: false, opened: false, reason: 'kiosk_left' }, 'missed'],
    ] as const;

    for (const [call, outcome] of cases) expect([call, callOutcome(call)]).toEqual([call, outcome]);
  });

  it('records a call from ring to end and lists it newest first with the kiosk’s name', () => {
    const { store } = site();
    store.recordCallStart({ callId: 'a', kioskId: 'north-1', ringStartedAt: 100 });
    store.recordCallAnswer('a', 'wang', 150);
    store.recordCallOpen('a');
    store.recordCallEnd('a', 200, 'hung_up_by_guard');
    store.recordCallStart({ callId: 'b', kioskId: 'north-1', ringStartedAt: 300 });

    expect(store.listCalls({ all: true }, 10)).toEqual([
      {
        callId: 'b',
        kioskId: 'north-1',
        kioskName: 'North 1',
        ringStartedAt: 300,
        answeredAt: null,
        endedAt: null,
        guard: null,
        outcome: 'live',
        endReason: null,
      },
      {
        callId: 'a',
        kioskId: 'north-1',
        kioskName: 'North 1',
        ringStartedAt: 100,
        answeredAt: 150,
        endedAt: 200,
        guard: 'wang',
        outcome: 'opened',
        endReason: 'hung_up_by_guard',
      },
    ]);
  });

  it('ends a call once: a second end changes nothing', () => {
    const { store } = site();
    store.recordCallStart({ callId: 'a', kioskId: 'north-1', ringStartedAt: 100 });
    store.recordCallEnd('a', 130, 'missed');
    store.recordCallEnd('a', 999, 'kiosk_left');

    expect(store.listCalls({ all: true }, 1)[0]).toMatchObject({ endedAt: 130, outcome: 'missed' });
  });

  it('shows a guard the calls of their ring groups and those they answered, an admin all', () => {
    const { store, wang, li } = site();
    store.recordCallStart({ callId: 'north-call', kioskId: 'north-1', ringStartedAt: 1 });
    store.recordCallStart({ callId: 'south-call', kioskId: 'south-1', ringStartedAt: 2 });
    store.recordCallStart({ callId: 'south-by-wang', kioskId: 'south-1', ringStartedAt: 3 });
    store.recordCallAnswer('south-by-wang', 'wang', 4);

    const ids = (viewer: Parameters<ServerStore['listCalls']>[0], limit = 10) =>
      store.listCalls(viewer, limit).map((call) => call.callId);
    expect(ids({ guardId: wang, guardName: 'wang' })).toEqual(['south-by-wang', 'north-call']);
    expect(ids({ guardId: li, guardName: 'li' })).toEqual(['south-by-wang', 'south-call']);
    expect(ids({ all: true })).toEqual(['south-by-wang', 'south-call', 'north-call']);
    expect(ids({ all: true }, 2)).toEqual(['south-by-wang', 'south-call']);
  });

  it('closes calls left live as kiosk_left, dated no later than they could have lasted', () => {
    const { store } = site();
    const limits = { ringTimeoutMs: 30_000, maxCallMs: 180_000 };
    store.recordCallStart({ callId: 'ringing', kioskId: 'north-1', ringStartedAt: 1_000 });
    store.recordCallStart({ callId: 'talking', kioskId: 'north-1', ringStartedAt: 2_000 });
    store.recordCallAnswer('talking', 'wang', 5_000);
    store.recordCallOpen('talking');
    store.recordCallStart({ callId: 'just-now', kioskId: 'south-1', ringStartedAt: 99_000 });

    expect(store.closeLiveCalls(100_000, limits)).toBe(3);
    const byId = new Map(store.listCalls({ all: true }, 10).map((call) => [call.callId, call]));
    expect(byId.get('ringing')).toMatchObject({ endedAt: 31_000, outcome: 'missed' });
    expect(byId.get('talking')).toMatchObject({ endedAt: 100_000, outcome: 'opened' });
    expect(byId.get('just-now')).toMatchObject({ endedAt: 100_000, endReason: 'kiosk_left' });
    expect(store.closeLiveCalls(200_000, limits)).toBe(0);
  });

  it('keeps when a kiosk was last seen and its version, keeping the version when none is given', () => {
    const { store } = site();
    store.recordKiosksSeen([
      { kioskId: 'north-1', at: 10, version: '1.2.0' },
      { kioskId: 'south-1', at: 11 },
    ]);
    store.recordKiosksSeen([{ kioskId: 'north-1', at: 20 }]);

    expect(
      store.listKioskStatus().map(({ id, lastSeenAt, version }) => ({ id, lastSeenAt, version })),
    ).toEqual([
      { id: 'north-1', lastSeenAt: 20, version: '1.2.0' },
      { id: 'south-1', lastSeenAt: 11, version: null },
    ]);
  });

  it('migrates a store of the first version, keeping its kiosks', () => {
    const raw = new Database(file);
    migrate(raw, serverMigrations.slice(0, 1));
    raw
      .prepare(
        `INSERT INTO kiosks (id, name, secret_hash, enrolled_at) VALUES ('old-1', 'Old', 'h', 1)`,
      )
      .run();
    raw.close();

    const store = open();

    expect(store.listKioskStatus()).toMatchObject([{ id: 'old-1', lastSeenAt: null }]);
    store.recordCallStart({ callId: 'c', kioskId: 'old-1', ringStartedAt: 1 });
    expect(store.listCalls({ all: true }, 1)).toMatchObject([{ kioskName: 'Old' }]);
  });
});
