/**
 * The store's schema, as an ordered list of migrations. PRAGMA user_version records how many have
 * run; each runs in its own transaction together with the version bump, so a power cut leaves the
 * file at one version or the next, never between.
 */
import type Database from 'better-sqlite3-multiple-ciphers';
import { KioskError } from '../common/errors.js';
import { moduleLogger } from './log.js';

const log = moduleLogger('migrations');

/** One step of the schema; `version` is the user_version the file has after it. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, oldest first. Append only: a shipped migration is never edited. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'visits, photos, audit and pass uses',
    sql: `
      CREATE TABLE visits (
        id TEXT PRIMARY KEY,
        at INTEGER NOT NULL,
        gate TEXT NOT NULL,
        method TEXT NOT NULL CHECK (method IN ('pass', 'guard', 'registration')),
        outcome TEXT NOT NULL CHECK (outcome IN ('admitted', 'refused', 'abandoned')),
        pass_id TEXT,
        masked_name TEXT,
        host_unit TEXT,
        refusal TEXT
      ) STRICT;
      CREATE INDEX visits_by_time ON visits (at);

      CREATE TABLE visit_photos (
        visit_id TEXT PRIMARY KEY REFERENCES visits (id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        jpeg BLOB NOT NULL
      ) STRICT;

      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL,
        detail TEXT NOT NULL
      ) STRICT;

      CREATE TABLE pass_uses (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        pass_id TEXT NOT NULL,
        visit_id TEXT NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
        at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX pass_uses_by_pass ON pass_uses (pass_id);
    `,
  },
];

/** The schema version this build writes. */
export const latestVersion = migrations.at(-1)?.version ?? 0;

/** Brings the file up to `latestVersion`; returns the version it was at before. */
export function migrate(db: Database.Database, list: readonly Migration[] = migrations): number {
  assertOrdered(list);

  const before = readVersion(db);
  const newest = list.at(-1)?.version ?? 0;
  if (before > newest) {
    throw new KioskError(
      'store_failed',
      `store has schema version ${before}, newer than this kiosk knows (${newest}); update the kiosk software`,
    );
  }

  for (const migration of list.filter((step) => step.version > before)) {
    runOne(db, migration);
  }
  return before;
}

function runOne(db: Database.Database, migration: Migration): void {
  const apply = db.transaction(() => {
    db.exec(migration.sql);
    db.pragma(`user_version = ${Math.trunc(migration.version)}`);
  });

  apply.immediate();
  log.info({ version: migration.version, name: migration.name }, 'migrate: applied');
}

// A migration list out of order would skip steps on some kiosks and not others.
function assertOrdered(list: readonly Migration[]): void {
  list.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new KioskError(
        'internal',
        `migration "${migration.name}" has version ${migration.version}, expected ${index + 1}`,
      );
    }
  });
}

function readVersion(db: Database.Database): number {
  return Number(db.pragma('user_version', { simple: true }));
}
