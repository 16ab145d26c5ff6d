import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasCode } from '../common/errors.js';
import { latestVersion, migrate, migrations, type Migration } from './migrations.js';
import type { AuditEntry, KioskStore, VisitRecord } from './ports.js';
import { openEncryptedDatabase, openStore } from './store.js';

const key = 'correct horse battery staple';
let dir: string;
let file: string;
const opened: KioskStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiosk-store-'));
  file = join(dir, 'kiosk.db');
});

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(options = { file, key }): KioskStore {
  const store = openStore(options);
  opened.push(store);
  return store;
}

function visit(overrides: Partial<VisitRecord> = {}): VisitRecord {
  return {
    id: 'visit-1',
    at: 1_750_000_000_000,
    gate: 'main-gate',
    method: 'pass',
    outcome: 'admitted',
    passId: 'pass-1',
    maskedName: '王*',
    hostUnit: '3-1102',
    refusal: null,
    ...overrides,
  };
}

function audit(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    at: 1_750_000_000_000,
    action: 'gate.open',
    actor: 'pass:pass-1',
    detail: { gate: 'main-gate' },
    ...overrides,
  };
}

function thrownBy(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

/** Every byte the store has on disk, the write-ahead log included. */
function bytesOnDisk(): Buffer {
  const parts = [file, `${file}-wal`, `${file}-journal`].filter((path) => existsSync(path));
  return Buffer.concat(parts.map((path) => readFileSync(path)));
}

describe('the store', () => {
  it('returns a saved visit as it was written', () => {
    const store = open();
    const record = visit({ method: 'guard', outcome: 'refused', passId: null, refusal: 'expired' });

    store.saveVisit(record);

    expect(store.getVisit('visit-1')).toEqual({ ...record, hasPhoto: false });
    expect(store.getVisit('nobody')).toBeUndefined();
  });

  it('updates a visit saved again under the same id', () => {
    const store = open();

    store.saveVisit(visit({ outcome: 'abandoned' }));
    store.saveVisit(visit({ outcome: 'admitted' }));

    expect(store.listVisits(10)).toHaveLength(1);
    expect(store.getVisit('visit-1')?.outcome).toBe('admitted');
  });

  it('lists visits newest first, up to the limit', () => {
    const store = open();
    for (let index = 0; index < 5; index += 1)
      store.saveVisit(visit({ id: `v${index}`, at: 1000 + index }));

    expect(store.listVisits(3).map((record) => record.id)).toEqual(['v4', 'v3', 'v2']);
    expect(store.listVisits(0)).toEqual([]);
  });

  it('keeps records across a close and a reopen', () => {
    const first = open();
    first.saveVisit(visit());
    first.appendAudit(audit());
    first.close();

    const second = open();

    expect(second.getVisit('visit-1')?.maskedName).toBe('王*');
    expect(second.listAudit(10)).toEqual([audit()]);
  });

  it('marks a visit that has a photo and keeps the JPEG bytes', () => {
    const store = open();
    const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, ...randomBytes(2000), 0xff, 0xd9]);
    store.saveVisit(visit());

    store.attachPhoto('visit-1', jpeg);
    store.close();

    const db = openEncryptedDatabase({ file, key });
    const stored = db
      .prepare('SELECT jpeg FROM visit_photos WHERE visit_id = ?')
      .pluck()
      .get('visit-1') as Buffer;
    db.close();
    expect(Buffer.compare(stored, Buffer.from(jpeg))).toBe(0);
    expect(open().getVisit('visit-1')?.hasPhoto).toBe(true);
  });

  it('refuses a photo for a visit it does not know', () => {
    const store = open();

    expect(() => store.attachPhoto('ghost', Uint8Array.from([0xff, 0xd8]))).toThrowError(
      expect.objectContaining({ code: 'not_found' }),
    );
  });

  it('lists audit lines newest first with their details', () => {
    const store = open();
    store.appendAudit(audit({ action: 'first', detail: { n: 1, nested: { ok: true } } }));
    store.appendAudit(audit({ action: 'second', detail: {} }));

    expect(store.listAudit(10).map((entry) => entry.action)).toEqual(['second', 'first']);
    expect(store.listAudit(10)[1]?.detail).toEqual({ n: 1, nested: { ok: true } });
  });

  it('refuses a limit that is not a whole number', () => {
    const store = open();

    expect(() => store.listVisits(-1)).toThrowError(
      expect.objectContaining({ code: 'bad_payload' }),
    );
    expect(() => store.listAudit(1.5)).toThrowError(
      expect.objectContaining({ code: 'bad_payload' }),
    );
  });

  it('turns a failure after close into a store error', () => {
    const store = open();
    store.close();

    expect(() => store.saveVisit(visit())).toThrowError(
      expect.objectContaining({ code: 'store_failed' }),
    );
  });
});

describe('encryption at rest', () => {
  it('leaves no stored text and no SQLite header readable in the files on disk', () => {
    const store = open();
    const marker = 'PLAINTEXT-MARKER-Zhang-3-1102';
    store.saveVisit(visit({ hostUnit: marker, maskedName: '张*' }));
    store.appendAudit(audit({ detail: { note: marker } }));

    for (const bytes of [bytesOnDisk(), (store.close(), bytesOnDisk())]) {
      expect(bytes.length).toBeGreaterThan(0);
      expect(bytes.includes(marker)).toBe(false);
      expect(bytes.includes(Buffer.from('张*', 'utf8'))).toBe(false);
      expect(bytes.includes('SQLite format 3')).toBe(false);
      expect(bytes.includes('CREATE TABLE')).toBe(false);
    }
  });

  it('refuses a wrong key with a store error instead of a crash', () => {
    open().saveVisit(visit());
    opened.splice(0).forEach((store) => store.close());

    const error = thrownBy(() => openStore({ file, key: 'not the right key' }));

    expect(hasCode(error, 'store_failed')).toBe(true);
    expect(String(error)).toMatch(/wrong key/);
  });

  it('refuses an empty key', () => {
    expect(() => openStore({ file, key: '' })).toThrowError(
      expect.objectContaining({ code: 'store_failed' }),
    );
  });

  it('refuses a corrupt file with a store error', () => {
    writeFileSync(file, randomBytes(8192));

    expect(() => openStore({ file, key })).toThrowError(
      expect.objectContaining({ code: 'store_failed' }),
    );
  });

  it('refuses a store whose pages were damaged after writing', () => {
    const store = open();
    for (let index = 0; index < 50; index += 1)
      store.saveVisit(visit({ id: `v${index}`, hostUnit: 'x'.repeat(200) }));
    store.close();
    opened.splice(0);

    const bytes = readFileSync(file);
    bytes.fill(0x55, 4096);
    writeFileSync(file, bytes);

    expect(() => {
      const damaged = open();
      damaged.listVisits(100);
    }).toThrowError(expect.objectContaining({ code: 'store_failed' }));
  });

  it('refuses an unencrypted SQLite file', () => {
    const plain = Buffer.alloc(4096);
    plain.write('SQLite format 3\0');
    writeFileSync(file, plain);

    expect(() => openStore({ file, key })).toThrowError(
      expect.objectContaining({ code: 'store_failed' }),
    );
  });
});

describe('migrations', () => {
  it('builds the schema in an empty file and records its version', () => {
    writeFileSync(file, '');

    open().close();

    const db = openEncryptedDatabase({ file, key });
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    const version = db.pragma('user_version', { simple: true });
    db.close();
    expect(tables).toEqual(
      expect.arrayContaining(['audit', 'pass_uses', 'visit_photos', 'visits']),
    );
    expect(version).toBe(latestVersion);
  });

  it('runs nothing again when an up-to-date store is reopened', () => {
    open().saveVisit(visit());
    opened.splice(0).forEach((store) => store.close());

    const db = openEncryptedDatabase({ file, key });
    const before = migrate(db);
    db.close();

    expect(before).toBe(latestVersion);
    expect(open().getVisit('visit-1')).toBeDefined();
  });

  it('applies only the migrations a file has not had, each with its version', () => {
    const extra: Migration = {
      version: latestVersion + 1,
      name: 'test column',
      sql: 'ALTER TABLE visits ADD COLUMN note TEXT;',
    };
    const db = openEncryptedDatabase({ file, key });

    expect(migrate(db)).toBe(0);
    expect(migrate(db, [...migrations, extra])).toBe(latestVersion);
    expect(db.pragma('user_version', { simple: true })).toBe(latestVersion + 1);
    db.close();
  });

  it('rolls back a failing migration whole, version included', () => {
    const broken: Migration = {
      version: latestVersion + 1,
      name: 'broken',
      sql: 'CREATE TABLE half (x); SELECT nonsense FROM nowhere;',
    };
    const db = openEncryptedDatabase({ file, key });
    migrate(db);

    expect(() => migrate(db, [...migrations, broken])).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(latestVersion);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half'").pluck().get()).toBe(
      0,
    );
    db.close();
  });

  it('refuses a store written by a newer kiosk version', () => {
    const db = openEncryptedDatabase({ file, key });
    db.pragma(`user_version = ${latestVersion + 5}`);
    db.close();

    const error = thrownBy(() => openStore({ file, key }));

    expect(hasCode(error, 'store_failed')).toBe(true);
    expect(String(error)).toMatch(/newer/);
  });

  it('refuses a migration list out of order', () => {
    const db = openEncryptedDatabase({ file, key });
    const shuffled = [{ ...migrations[0], version: 2 }];

    expect(() => migrate(db, shuffled)).toThrowError(expect.objectContaining({ code: 'internal' }));
    db.close();
  });
});

describe('admitting with a pass', () => {
  it('writes the visit, the use and the audit line together', () => {
    const store = open();

    expect(store.admitWithPass(visit(), 'pass-1', 2, audit())).toBe(true);

    expect(store.passUses('pass-1')).toBe(1);
    expect(store.getVisit('visit-1')?.outcome).toBe('admitted');
    expect(store.listAudit(10)).toEqual([audit()]);
  });

  it('refuses past the allowance and writes nothing for the refused entry', () => {
    const store = open();
    const results = [1, 2, 3].map((n) =>
      store.admitWithPass(visit({ id: `v${n}` }), 'pass-1', 2, audit({ detail: { n } })),
    );

    expect(results).toEqual([true, true, false]);
    expect(store.passUses('pass-1')).toBe(2);
    expect(store.getVisit('v3')).toBeUndefined();
    expect(store.listAudit(10)).toHaveLength(2);
  });

  it('counts uses per pass', () => {
    const store = open();
    store.admitWithPass(visit({ id: 'a' }), 'pass-a', 1, audit());

    expect(store.admitWithPass(visit({ id: 'b' }), 'pass-b', 1, audit())).toBe(true);
    expect(store.passUses('pass-a')).toBe(1);
    expect(store.passUses('unknown')).toBe(0);
  });

  it('admits only once when two callers race on a single-entry pass', async () => {
    const store = open();
    const attempt = (id: string) =>
      Promise.resolve().then(() => store.admitWithPass(visit({ id }), 'pass-1', 1, audit()));

    const results = await Promise.all([attempt('first'), attempt('second')]);

    expect(results.filter(Boolean)).toHaveLength(1);
    expect(store.passUses('pass-1')).toBe(1);
  });

  it('admits only the allowed number across two connections to the same file', () => {
    const one = open();
    const two = open();

    const results = ['a', 'b', 'c', 'd'].map((id, index) =>
      (index % 2 ? two : one).admitWithPass(visit({ id }), 'pass-1', 3, audit()),
    );

    expect(results).toEqual([true, true, true, false]);
    expect(one.passUses('pass-1')).toBe(3);
  });

  it('writes nothing when a step inside the transaction fails', () => {
    const store = open();
    // The audit line is the last step; a detail JSON cannot carry fails it after the visit and use.
    const unwritable = audit({ detail: { count: 1n } });

    expect(() => store.admitWithPass(visit(), 'pass-1', 5, unwritable)).toThrowError(
      expect.objectContaining({ code: 'store_failed' }),
    );
    expect(store.passUses('pass-1')).toBe(0);
    expect(store.getVisit('visit-1')).toBeUndefined();
    expect(store.listAudit(10)).toEqual([]);
  });
});
