/**
 * The intercom server's embedded store: guards, their sessions, kiosks, ring groups, call history
 * and the audit log in one SQLite file. Every write is synced before it returns (WAL, synchronous FULL), so an
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
import type { CallEndReason } from './calls.js';

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
  {
    version: 2,
    name: 'call history, kiosks last seen',
    sql: `
      CREATE TABLE calls (
        id TEXT PRIMARY KEY,
        kiosk_id TEXT NOT NULL,
        ring_started_at INTEGER NOT NULL,
        answered_at INTEGER,
        guard TEXT,
        ended_at INTEGER,
        end_reason TEXT,
        opened INTEGER NOT NULL DEFAULT 0,
        outcome TEXT NOT NULL
          CHECK (outcome IN ('live', 'opened', 'denied', 'missed', 'cancelled', 'ended'))
      ) STRICT;
      CREATE INDEX calls_by_ring_start ON calls (ring_started_at);
      CREATE INDEX calls_live ON calls (outcome) WHERE outcome = 'live';

      ALTER TABLE kiosks ADD COLUMN last_seen_at INTEGER;
      ALTER TABLE kiosks ADD COLUMN version TEXT;
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

/** A guard account as admins list it: with when it was created. */
export interface GuardAccount extends Guard {
  createdAt: number;
}

/** What an admin may change of a guard account; a field left out stays as it is. */
export interface GuardChange {
  role?: Role;
  disabled?: boolean;
  passwordHash?: string;
}

/** What an admin may change of an enrolled kiosk; a field left out stays as it is. */
export interface KioskChange {
  name?: string;
  ringGroup?: string | null;
}

/** A record as it was before a change and as it is now. */
export interface Changed<T> {
  before: T;
  after: T;
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

/** How a call turned out; `live` until it ends. */
export type CallOutcome = 'opened' | 'denied' | 'missed' | 'cancelled' | 'ended' | 'live';

/** One call of the history, as `GET /api/calls` lists it. */
export interface CallHistoryEntry {
  callId: string;
  kioskId: string;
  kioskName: string;
  ringStartedAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  guard: string | null;
  outcome: CallOutcome;
  endReason: CallEndReason | null;
}

/** An enrolled kiosk with what the server last saw of it. */
export interface KioskStatus extends KioskRecord {
  /** When its connection last ended, or null if it never connected. */
  lastSeenAt: number | null;
  /** The software version it reported at its last hello. */
  version: string | null;
}

/** When a kiosk was last seen; `version` undefined keeps the stored one. */
export interface KioskSighting {
  kioskId: string;
  at: number;
  version?: string | null;
}

/** Who is reading the history: an admin sees every call, a guard those of their ring groups. */
export type CallViewer = { all: true } | { guardId: number; guardName: string };

/** The longest a call can last, used to date calls the server lost track of when it stopped. */
export interface CallLimits {
  ringTimeoutMs: number;
  maxCallMs: number;
}

/**
 * How a call turned out. An open wins over anything that came after it; an unanswered call that
 * the visitor did not cancel is missed, however it ended, since nobody spoke to the visitor.
 */
export function callOutcome(call: {
  answered: boolean;
  opened: boolean;
  reason: CallEndReason;
}): Exclude<CallOutcome, 'live'> {
  if (call.opened) return 'opened';
  if (!call.answered) return call.reason === 'cancelled' ? 'cancelled' : 'missed';

  return call.reason === 'denied' ? 'denied' : 'ended';
}

interface CallRow {
  id: string;
  kiosk_id: string;
  kiosk_name: string | null;
  ring_started_at: number;
  answered_at: number | null;
  guard: string | null;
  ended_at: number | null;
  end_reason: CallEndReason | null;
  opened: number;
  outcome: CallOutcome;
}

interface GuardRow {
  id: number;
  name: string;
  role: Role;
  disabled: number;
  password_hash: string;
  created_at: number;
}

interface KioskRow {
  id: string;
  name: string;
  revoked: number;
  ring_group: string | null;
  secret_hash: string;
  last_seen_at: number | null;
  version: string | null;
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
    const row = guarded('find guard', () => this.#guardRow(name));

    return row && { guard: toGuard(row), passwordHash: row.password_hash };
  }

  /** Every guard account, by name. */
  listGuards(): GuardAccount[] {
    const rows = guarded('list guards', () =>
      this.#db.prepare('SELECT * FROM guards ORDER BY name').all(),
    ) as GuardRow[];

    return rows.map(toAccount);
  }

  /** True when at least one enabled admin exists. */
  hasAdmin(): boolean {
    return guarded('count admins', () => this.#activeAdmins()) > 0;
  }

  /**
   * Changes a guard account. A change that would leave no active admin is refused with
   * `conflict` and nothing changes: someone must always be able to manage the site.
   */
  updateGuard(name: string, change: GuardChange): Changed<GuardAccount> {
    const update = this.#db.transaction(() => {
      const before = this.#guardRow(name);
      if (!before) throw new KioskError('not_found', `no guard ${name}`);

      this.#db
        .prepare(
          `UPDATE guards SET role = coalesce(@role, role), disabled = coalesce(@disabled, disabled),
           password_hash = coalesce(@passwordHash, password_hash) WHERE id = @id`,
        )
        .run({
          id: before.id,
          role: change.role ?? null,
          disabled: change.disabled === undefined ? null : Number(change.disabled),
          passwordHash: change.passwordHash ?? null,
        });
      const after = this.#guardRow(name) ?? before;
      if (isActiveAdmin(before) && !isActiveAdmin(after) && this.#activeAdmins() === 0) {
        throw new KioskError(
          'conflict',
          `${name} is the last active admin: make another guard an admin first`,
        );
      }
      return { before: toAccount(before), after: toAccount(after) };
    });

    return guarded('update guard', () => update.immediate());
  }

  #guardRow(name: string): GuardRow | undefined {
    return this.#db.prepare('SELECT * FROM guards WHERE name = ?').get(name) as
      GuardRow | undefined;
  }

  #activeAdmins(): number {
    const row = this.#db
      .prepare("SELECT count(*) AS n FROM guards WHERE role = 'admin' AND disabled = 0")
      .get() as { n: number };
    return row.n;
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

  /** Ends every session of a guard except the one whose token hash is `keep`; returns how many. */
  deleteGuardSessions(guardId: number, keep?: string): number {
    return guarded('delete guard sessions', () =>
      this.#db
        .prepare('DELETE FROM sessions WHERE guard_id = ? AND token_hash IS NOT ?')
        .run(guardId, keep ?? null),
    ).changes;
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

  /**
   * Deletes a ring group and returns it. Refused with `conflict` while a kiosk that can still
   * connect rings it; revoked kiosks keep no ring group.
   */
  deleteRingGroup(id: string): RingGroup {
    const remove = this.#db.transaction(() => {
      const group = this.listRingGroups().find((candidate) => candidate.id === id);
      if (!group) throw new KioskError('not_found', `no ring group ${id}`);

      const users = this.#db
        .prepare('SELECT id FROM kiosks WHERE ring_group = ? AND revoked = 0 ORDER BY id')
        .all(id) as { id: string }[];
      if (users.length > 0) {
        const names = users.map((kiosk) => kiosk.id).join(', ');
        throw new KioskError(
          'conflict',
          `ring group ${id} still rings for kiosks ${names}: move them to another group first`,
        );
      }
      this.#db.prepare('DELETE FROM ring_groups WHERE id = ?').run(id);
      return group;
    });

    return guarded('delete ring group', () => remove.immediate());
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

  /** Renames a kiosk or moves it to another ring group; an unknown group is `not_found`. */
  updateKiosk(id: string, change: KioskChange): Changed<KioskRecord> {
    const update = this.#db.transaction(() => {
      const before = this.kioskCredentials(id)?.kiosk;
      if (!before) throw new KioskError('not_found', `no kiosk ${id}`);

      const after = {
        ...before,
        name: change.name ?? before.name,
        ringGroup: change.ringGroup === undefined ? before.ringGroup : change.ringGroup,
      };
      this.#db
        .prepare('UPDATE kiosks SET name = ?, ring_group = ? WHERE id = ?')
        .run(after.name, after.ringGroup, id);
      return { before, after };
    });

    try {
      return update.immediate();
    } catch (cause) {
      if (isConstraint(cause, 'FOREIGNKEY'))
        throw new KioskError('not_found', 'no such ring group');
      throw asStoreError('update kiosk failed', cause);
    }
  }

  /** Every enrolled kiosk, by id. */
  listKiosks(): KioskRecord[] {
    const rows = guarded('list kiosks', () =>
      this.#db.prepare('SELECT * FROM kiosks ORDER BY id').all(),
    ) as KioskRow[];

    return rows.map(toKiosk);
  }

  /** Every enrolled kiosk with when it was last seen, by id. */
  listKioskStatus(): KioskStatus[] {
    const rows = guarded('list kiosks', () =>
      this.#db.prepare('SELECT * FROM kiosks ORDER BY id').all(),
    ) as KioskRow[];

    return rows.map((row) => ({
      ...toKiosk(row),
      lastSeenAt: row.last_seen_at,
      version: row.version,
    }));
  }

  /** Records when kiosks were last seen, all in one transaction (one sync for many kiosks). */
  recordKiosksSeen(sightings: readonly KioskSighting[]): void {
    if (sightings.length === 0) return;

    const update = this.#db.prepare(
      'UPDATE kiosks SET last_seen_at = ?, version = coalesce(?, version) WHERE id = ?',
    );
    const record = this.#db.transaction(() => {
      for (const seen of sightings) update.run(seen.at, seen.version ?? null, seen.kioskId);
    });
    guarded('record kiosks seen', () => record.immediate());
  }

  /** Starts a call's history row; it stays `live` until `recordCallEnd`. */
  recordCallStart(call: { callId: string; kioskId: string; ringStartedAt: number }): void {
    guarded('record call start', () =>
      this.#db
        .prepare(
          `INSERT INTO calls (id, kiosk_id, ring_started_at, outcome) VALUES (?, ?, ?, 'live')`,
        )
        .run(call.callId, call.kioskId, call.ringStartedAt),
    );
  }

  /** Records which guard took a call, and when. */
  recordCallAnswer(callId: string, guard: string, at: number): void {
    guarded('record call answer', () =>
      this.#db
        .prepare('UPDATE calls SET guard = ?, answered_at = ? WHERE id = ?')
        .run(guard, at, callId),
    );
  }

  /** Records that an open command went to the kiosk during the call. */
  recordCallOpen(callId: string): void {
    guarded('record call open', () =>
      this.#db.prepare('UPDATE calls SET opened = 1 WHERE id = ?').run(callId),
    );
  }

  /** Ends a live call's row with its reason; the outcome follows from `callOutcome`. */
  recordCallEnd(callId: string, endedAt: number, reason: CallEndReason): void {
    const end = this.#db.transaction(() => {
      const row = this.#db
        .prepare(`SELECT * FROM calls WHERE id = ? AND outcome = 'live'`)
        .get(callId) as CallRow | undefined;
      if (row) this.#endRow(row, endedAt, reason);
    });
    guarded('record call end', () => end.immediate());
  }

  /**
   * Ends every call still live, e.g. those of a server that stopped without ending them. The
   * kiosks' connections ended with the server, so the reason is `kiosk_left`; a call is dated at
   * the latest it could have ended (ring timeout or maximum call time), never after `now`.
   */
  closeLiveCalls(now: number, limits: CallLimits): number {
    const close = this.#db.transaction(() => {
      const rows = this.#db
        .prepare(`SELECT * FROM calls WHERE outcome = 'live'`)
        .all() as CallRow[];
      for (const row of rows) {
        const latest =
          row.answered_at === null
            ? row.ring_started_at + limits.ringTimeoutMs
            : row.answered_at + limits.maxCallMs;
        this.#endRow(row, Math.min(now, latest), 'kiosk_left');
      }
      return rows.length;
    });
    return guarded('close live calls', () => close.immediate());
  }

  /** The newest `limit` calls the viewer may see, newest first. */
  listCalls(viewer: CallViewer, limit: number): CallHistoryEntry[] {
    const all = 'all' in viewer;
    const rows = guarded('list calls', () =>
      this.#db
        .prepare(
          `SELECT c.*, k.name AS kiosk_name FROM calls c LEFT JOIN kiosks k ON k.id = c.kiosk_id
           WHERE @all = 1 OR c.guard = @guardName OR EXISTS (
             SELECT 1 FROM ring_group_members m
             WHERE m.group_id = k.ring_group AND m.guard_id = @guardId
           )
           ORDER BY c.ring_started_at DESC, c.rowid DESC LIMIT @limit`,
        )
        .all({
          all: all ? 1 : 0,
          guardId: all ? null : viewer.guardId,
          guardName: all ? null : viewer.guardName,
          limit,
        }),
    ) as CallRow[];

    return rows.map(toCallEntry);
  }

  #endRow(row: CallRow, endedAt: number, reason: CallEndReason): void {
    const outcome = callOutcome({
      answered: row.answered_at !== null,
      opened: row.opened !== 0,
      reason,
    });
    this.#db
      .prepare('UPDATE calls SET ended_at = ?, end_reason = ?, outcome = ? WHERE id = ?')
      .run(endedAt, reason, outcome, row.id);
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

function toAccount(row: GuardRow): GuardAccount {
  return { ...toGuard(row), createdAt: row.created_at };
}

function isActiveAdmin(row: GuardRow): boolean {
  return row.role === 'admin' && row.disabled === 0;
}

function toKiosk(row: KioskRow): KioskRecord {
  return { id: row.id, name: row.name, revoked: row.revoked !== 0, ringGroup: row.ring_group };
}

function toCallEntry(row: CallRow): CallHistoryEntry {
  return {
    callId: row.id,
    kioskId: row.kiosk_id,
    kioskName: row.kiosk_name ?? row.kiosk_id,
    ringStartedAt: row.ring_started_at,
    answeredAt: row.answered_at,
    endedAt: row.ended_at,
    guard: row.guard,
    outcome: row.outcome,
    endReason: row.end_reason,
  };
}

function isConstraint(cause: unknown, kind: 'UNIQUE' | 'PRIMARYKEY' | 'FOREIGNKEY'): boolean {
  return (cause as { code?: unknown }).code === `SQLITE_CONSTRAINT_${kind}`;
}
