/**
 * The intercom server's embedded store: guards, their sessions, kiosks, ring groups and the audit
 * log in one SQLite file. Every write is synced before it returns (WAL, synchronous FULL), so an
 * enrolment or an audit line survives a power cut. The schema is a list of migrations run by the
 * kiosk's own helper, which takes any list and keeps the version in PRAGMA user_version.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { KioskError } from '../app/common/errors.js';
import { moduleLogger } from '../app/core/log.js';
import { migrate, type Migration } from '../app/core/migrations.js';
import { asStoreError, guarded, openEncryptedDatabase } from '../app/core/store.js';

const log = moduleLogger('server-store');

/** Every migration of the server's store, oldest first. Append only. */
export const serverMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'guards, sessions, kiosks, ring groups and audit',
    sql: `
      CREATE TABLE guards (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'guard')),
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        guard_id INTEGER NOT NULL REFERENCES guards (id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX sessions_by_expiry ON sessions (expires_at);

      CREATE TABLE ring_groups (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL
      ) STRICT;

      CREATE TABLE ring_group_members (
        group_id TEXT NOT NULL REFERENCES ring_groups (id) ON DELETE CASCADE,
        guard_id INTEGER NOT NULL REFERENCES guards (id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, guard_id)
      ) STRICT;

      CREATE TABLE kiosks (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0,
        ring_group TEXT REFERENCES ring_groups (id) ON DELETE SET NULL,
        enrolled_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL,
        detail TEXT NOT NULL
      ) STRICT;
      CREATE INDEX audit_by_time ON audit (at);
    `,
  },
];

/** Where the store lives; `key` encrypts it when given (see ServerConfig.storeKey). */
export interface ServerStoreOptions {
  file: string;
  key?: string;
}

export type Role = 'admin' | 'guard';

/** A guard account as the rest of the server sees it (never with its hash). */
export interface Guard {
  id: number;
  name: string;
  role: Role;
  disabled: boolean;
}

/** An enrolled kiosk. */
export interface KioskRecord {
  id: string;
  name: string;
  revoked: boolean;
  ringGroup: string | null;
}

/** A ring group and the ids of the guards it rings. */
export interface RingGroup {
  id: string;
  name: string;
  guardIds: number[];
}

/** One line of the server's audit log; `detail` is stored as JSON. */
export interface ServerAuditEntry {
  at: number;
  action: string;
  actor: string;
  detail: Record<string, unknown>;
}

interface GuardRow {
  id: number;
  name: string;
  role: Role;
  disabled: number;
  password_hash: string;
}

interface KioskRow {
  id: string;
  name: string;
  revoked: number;
  ring_group: string | null;
  secret_hash: string;
}

/** Opens (creating or migrating as needed) the server's store. */
export function openServerStore(options: ServerStoreOptions): ServerStore {
  const db = options.key
    ? openEncryptedDatabase({ file: options.file, key: options.key })
    : openPlain(options.file);

  try {
    configure(db);
    const before = migrate(db, serverMigrations);
    log.info(
      { file: options.file, schemaBefore: before, encrypted: Boolean(options.key) },
      'open: store ready',
    );
  } catch (cause) {
    db.close();
    throw asStoreError(`cannot prepare the server store at ${options.file}`, cause);
  }
  return new ServerStore(db);
}

function openPlain(file: string): Database.Database {
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // The admin CLI may hold the write lock for a moment while the server runs: wait, do not fail.
    return new Database(file, { timeout: 5000 });
  } catch (cause) {
    throw asStoreError(`cannot open the server store file ${file}`, cause);
  }
}

function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  // FULL syncs the WAL on every commit: an audit line or enrolment is never lost to a power cut.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
}

/** The server's records; every method is synchronous and committed when it returns. */
export class ServerStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Adds a guard; refuses a name already taken with `conflict`. */
  createGuard(name: string, passwordHash: string, role: Role, at: number): Guard {
    try {
      const result = this.#db
        .prepare('INSERT INTO guards (name, password_hash, role, created_at) VALUES (?, ?, ?, ?)')
        .run(name, passwordHash, role, at);
      return { id: Number(result.lastInsertRowid), name, role, disabled: false };
    } catch (cause) {
      if (isConstraint(cause, 'UNIQUE'))
        throw new KioskError('conflict', 'a guard with this name exists');
      throw asStoreError('create guard failed', cause);
    }
  }

  /** Replaces a guard's password hash (for a reset, or a rehash with stronger parameters). */
  setPasswordHash(guardId: number, passwordHash: string): void {
    guarded('set password', () =>
      this.#db
        .prepare('UPDATE guards SET password_hash = ? WHERE id = ?')
        .run(passwordHash, guardId),
    );
  }

  /** The guard and their password hash, for login only. */
  guardCredentials(name: string): { guard: Guard; passwordHash: string } | undefined {
    const row = guarded('find guard', () =>
      this.#db.prepare('SELECT * FROM guards WHERE name = ?').get(name),
    ) as GuardRow | undefined;

    return row && { guard: toGuard(row), passwordHash: row.password_hash };
  }

  /** Every guard account, by name. */
  listGuards(): Guard[] {
    const rows = guarded('list guards', () =>
      this.#db.prepare('SELECT * FROM guards ORDER BY name').all(),
    ) as GuardRow[];

    return rows.map(toGuard);
  }

  /** True when at least one enabled admin exists. */
  hasAdmin(): boolean {
    const row = guarded('count admins', () =>
      this.#db
        .prepare("SELECT count(*) AS n FROM guards WHERE role = 'admin' AND disabled = 0")
        .get(),
    ) as { n: number };

    return row.n > 0;
  }

  /** Stores a new session under the hash of its token. */
  createSession(tokenHash: string, guardId: number, at: number, expiresAt: number): void {
    guarded('create session', () =>
      this.#db
        .prepare(
          'INSERT INTO sessions (token_hash, guard_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
        )
        .run(tokenHash, guardId, at, expiresAt),
    );
  }

  /** The guard a live session belongs to; expired sessions and disabled guards give undefined. */
  sessionGuard(tokenHash: string, now: number): Guard | undefined {
    const row = guarded('find session', () =>
      this.#db
        .prepare(
          `SELECT g.* FROM sessions s JOIN guards g ON g.id = s.guard_id
           WHERE s.token_hash = ? AND s.expires_at > ? AND g.disabled = 0`,
        )
        .get(tokenHash, now),
    ) as GuardRow | undefined;

    return row && toGuard(row);
  }

  /** Removes one session; true when it existed. */
  deleteSession(tokenHash: string): boolean {
    const result = guarded('delete session', () =>
      this.#db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash),
    );
    return result.changes > 0;
  }

  /** Removes sessions that expired before `now`; returns how many. */
  deleteExpiredSessions(now: number): number {
    return guarded('purge sessions', () =>
      this.#db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now),
    ).changes;
  }

  /** Creates or replaces a ring group with exactly `guardIds` as members. */
  saveRingGroup(group: RingGroup): void {
    const save = this.#db.transaction(() => {
      this.#db
        .prepare(
          'INSERT INTO ring_groups (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name',
        )
        .run(group.id, group.name);
      this.#db.prepare('DELETE FROM ring_group_members WHERE group_id = ?').run(group.id);
      const member = this.#db.prepare(
        'INSERT INTO ring_group_members (group_id, guard_id) VALUES (?, ?)',
      );
      for (const guardId of group.guardIds) member.run(group.id, guardId);
    });

    try {
      save.immediate();
    } catch (cause) {
      if (isConstraint(cause, 'FOREIGNKEY'))
        throw new KioskError('not_found', 'a guard in the ring group does not exist');
      throw asStoreError('save ring group failed', cause);
    }
  }

  /** Every ring group with its members. */
  listRingGroups(): RingGroup[] {
    const groups = guarded('list ring groups', () =>
      this.#db.prepare('SELECT id, name FROM ring_groups ORDER BY id').all(),
    ) as { id: string; name: string }[];
    const members = guarded('list ring group members', () =>
      this.#db.prepare('SELECT group_id, guard_id FROM ring_group_members ORDER BY guard_id').all(),
    ) as { group_id: string; guard_id: number }[];

    return groups.map((group) => ({
      ...group,
      guardIds: members.filter((m) => m.group_id === group.id).map((m) => m.guard_id),
    }));
  }

  /** The enabled guards a kiosk's calls ring: its ring group's members. */
  guardsForKiosk(kioskId: string): Guard[] {
    const rows = guarded('guards for kiosk', () =>
      this.#db
        .prepare(
          `SELECT g.* FROM kiosks k
           JOIN ring_group_members m ON m.group_id = k.ring_group
           JOIN guards g ON g.id = m.guard_id
           WHERE k.id = ? AND g.disabled = 0 ORDER BY g.name`,
        )
        .all(kioskId),
    ) as GuardRow[];

    return rows.map(toGuard);
  }

  /** Enrols a kiosk; refuses an id already enrolled with `conflict`. */
  createKiosk(kiosk: Omit<KioskRecord, 'revoked'>, secretHash: string, at: number): KioskRecord {
    try {
      this.#db
        .prepare(
          'INSERT INTO kiosks (id, name, secret_hash, ring_group, enrolled_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(kiosk.id, kiosk.name, secretHash, kiosk.ringGroup, at);
      return { ...kiosk, revoked: false };
    } catch (cause) {
      if (isConstraint(cause, 'UNIQUE') || isConstraint(cause, 'PRIMARYKEY')) {
        throw new KioskError('conflict', `kiosk ${kiosk.id} is already enrolled`);
      }
      if (isConstraint(cause, 'FOREIGNKEY'))
        throw new KioskError('not_found', 'no such ring group');
      throw asStoreError('enrol kiosk failed', cause);
    }
  }

  /** The kiosk and its secret hash, for kiosk authentication only. */
  kioskCredentials(id: string): { kiosk: KioskRecord; secretHash: string } | undefined {
    const row = guarded('find kiosk', () =>
      this.#db.prepare('SELECT * FROM kiosks WHERE id = ?').get(id),
    ) as KioskRow | undefined;

    return row && { kiosk: toKiosk(row), secretHash: row.secret_hash };
  }

  /** Marks a kiosk revoked; false when no such kiosk exists. */
  revokeKiosk(id: string): boolean {
    return (
      guarded('revoke kiosk', () =>
        this.#db.prepare('UPDATE kiosks SET revoked = 1 WHERE id = ?').run(id),
      ).changes > 0
    );
  }

  /** Every enrolled kiosk, by id. */
  listKiosks(): KioskRecord[] {
    const rows = guarded('list kiosks', () =>
      this.#db.prepare('SELECT * FROM kiosks ORDER BY id').all(),
    ) as KioskRow[];

    return rows.map(toKiosk);
  }

  /** Appends one audit line. */
  appendAudit(entry: ServerAuditEntry): void {
    guarded('append audit', () =>
      this.#db
        .prepare('INSERT INTO audit (at, action, actor, detail) VALUES (?, ?, ?, ?)')
        .run(entry.at, entry.action, entry.actor, JSON.stringify(entry.detail)),
    );
  }

  /** The newest `limit` audit lines, oldest first; `action` narrows to one kind. */
  listAudit(options: { limit?: number; action?: string } = {}): ServerAuditEntry[] {
    const rows = guarded('list audit', () =>
      this.#db
        .prepare(
          `SELECT * FROM (
             SELECT * FROM audit WHERE @action IS NULL OR action = @action
             ORDER BY seq DESC LIMIT @limit
           ) ORDER BY seq`,
        )
        .all({ action: options.action ?? null, limit: options.limit ?? 100 }),
    ) as { at: number; action: string; actor: string; detail: string }[];

    return rows.map((row) => ({
      ...row,
      detail: JSON.parse(row.detail) as Record<string, unknown>,
    }));
  }

  /** Closes the file; the store is unusable afterwards. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

function toGuard(row: GuardRow): Guard {
  return { id: row.id, name: row.name, role: row.role, disabled: row.disabled !== 0 };
}

function toKiosk(row: KioskRow): KioskRecord {
  return { id: row.id, name: row.name, revoked: row.revoked !== 0, ringGroup: row.ring_group };
}

function isConstraint(cause: unknown, kind: 'UNIQUE' | 'PRIMARYKEY' | 'FOREIGNKEY'): boolean {
  return (cause as { code?: unknown }).code === `SQLITE_CONSTRAINT_${kind}`;
}
