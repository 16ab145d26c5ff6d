import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openServerStore, type ServerStore } from './store.js';

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
      expect(raw.pragma('user_version', { simple: true })).toBe(1);
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
