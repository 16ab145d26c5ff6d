/**
 * The kiosk's local store: visits, their photos, the audit log and pass uses in one SQLite file,
 * encrypted at rest. Every write is committed and synced before the call returns, because the
 * kiosk's power can fail at any instant and a committed record must survive it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { KioskError } from '../common/errors.js';
import type { RefusalReason } from '../contract/api.js';
import { moduleLogger } from './log.js';
import { migrate } from './migrations.js';
import type { AuditEntry, KioskStore, VisitMethod, VisitOutcome, VisitRecord } from './ports.js';

const log = moduleLogger('store');

/** Where the store lives and the key that encrypts it. */
export interface StoreOptions {
  file: string;
  key: string;
}

type StoredVisit = VisitRecord & { hasPhoto: boolean };

interface VisitRow {
  id: string;
  at: number;
  gate: string;
  method: string;
  outcome: string;
  pass_id: string | null;
  masked_name: string | null;
  host_unit: string | null;
  refusal: string | null;
  has_photo: number;
}

interface AuditRow {
  at: number;
  action: string;
  actor: string;
  detail: string;
}

/**
 * Opens the SQLite file and unlocks it, before any other statement touches it.
 *
 * Cipher: SQLCipher 4 (AES-256-CBC, an HMAC-SHA512 on every page, PBKDF2 key derivation). The
 * page HMAC turns a damaged or tampered page into an error instead of silently wrong records, and
 * stock SQLCipher tools can open the file for an audit or a data-subject request; the library's
 * default (ChaCha20) would tie the records to this one library. The price is about 0.1 s of key
 * derivation per open.
 */
export function openEncryptedDatabase(options: StoreOptions): Database.Database {
  if (!options.key) {
    throw new KioskError('store_failed', 'store key is empty: set storeKey in the configuration');
  }

  const db = openFile(options.file);
  try {
    unlock(db, options);
    return db;
  } catch (cause) {
    db.close();
    throw cause;
  }
}

/** Opens (creating or migrating as needed) the encrypted store at `options.file`. */
export function openStore(options: StoreOptions): KioskStore {
  const db = openEncryptedDatabase(options);

  try {
    configure(db, options.file);
    const before = migrate(db);
    log.info({ file: options.file, schemaBefore: before }, 'open: store ready');
  } catch (cause) {
    db.close();
    throw asStoreError(`cannot prepare the store at ${options.file}`, cause);
  }
  return new SqliteKioskStore(db);
}

function openFile(file: string): Database.Database {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Another process holding the write lock (a technician's CLI) is waited for, not failed on.
    return new Database(file, { timeout: 5000 });
  } catch (cause) {
    throw asStoreError(
      `cannot open the store file ${file} (missing folder or no permission?)`,
      cause,
    );
  }
}

function unlock(db: Database.Database, options: StoreOptions): void {
  try {
    db.pragma(`cipher = 'sqlcipher'`);
    db.pragma('legacy = 4');
    if (db.key(Buffer.from(options.key, 'utf8')) !== 0) throw new Error('the key was not accepted');

    // The key is only checked when a page is read: this read turns a wrong key into an error now.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (cause) {
    throw asStoreError(
      `cannot unlock the store at ${options.file}: wrong key, or the file is not one of our stores or is damaged`,
      cause,
    );
  }
}

function configure(db: Database.Database, file: string): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') {
    log.warn({ file, mode }, 'open: WAL mode unavailable, using the default journal');
  }

  // FULL syncs the WAL on every commit: slower writes, but no committed visit is lost to a power cut.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
}

class SqliteKioskStore implements KioskStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  appendAudit(entry: AuditEntry): void {
    guarded('append audit', () => this.#insertAudit(entry));
  }

  admitWithPass(
    visit: VisitRecord,
    passId: string,
    allowedEntries: number,
    audit: AuditEntry,
  ): boolean {
    // IMMEDIATE takes the write lock before counting, so a second kiosk process on the same file
    // cannot count the same uses and admit past the allowance.
    const admit = this.#db.transaction(() => {
      if (this.passUses(passId) >= allowedEntries) return false;

      this.#upsertVisit(visit);
      this.#db
        .prepare('INSERT INTO pass_uses (pass_id, visit_id, at) VALUES (?, ?, ?)')
        .run(passId, visit.id, visit.at);
      this.#insertAudit(audit);
      return true;
    });

    const admitted = guarded('admit with pass', () => admit.immediate());
    if (!admitted) log.info({ passId, allowedEntries }, 'admit: refused, entries used up');
    return admitted;
  }

  saveVisit(visit: VisitRecord): void {
    guarded('save visit', () => this.#upsertVisit(visit));
  }

  attachPhoto(visitId: string, jpeg: Uint8Array): void {
    if (!this.#visitExists(visitId)) {
      throw new KioskError('not_found', `no visit ${visitId} to attach a photo to`);
    }

    guarded('attach photo', () =>
      this.#db
        .prepare(
          `INSERT INTO visit_photos (visit_id, at, jpeg) VALUES (?, ?, ?)
           ON CONFLICT (visit_id) DO UPDATE SET at = excluded.at, jpeg = excluded.jpeg`,
        )
        .run(visitId, Date.now(), Buffer.from(jpeg)),
    );
  }

  passUses(passId: string): number {
    return guarded('count pass uses', () =>
      Number(
        this.#db.prepare('SELECT count(*) FROM pass_uses WHERE pass_id = ?').pluck().get(passId),
      ),
    );
  }

  getVisit(visitId: string): StoredVisit | undefined {
    const row = guarded('get visit', () =>
      this.#db.prepare<[string], VisitRow>(`${selectVisits} WHERE v.id = ?`).get(visitId),
    );
    return row && toVisit(row);
  }

  listVisits(limit: number): StoredVisit[] {
    checkLimit(limit);

    const rows = guarded('list visits', () =>
      this.#db
        .prepare<[number], VisitRow>(`${selectVisits} ORDER BY v.at DESC, v.rowid DESC LIMIT ?`)
        .all(limit),
    );
    return rows.map(toVisit);
  }

  listAudit(limit: number): AuditEntry[] {
    checkLimit(limit);

    const rows = guarded('list audit', () =>
      this.#db
        .prepare<[number], AuditRow>(
          'SELECT at, action, actor, detail FROM audit ORDER BY seq DESC LIMIT ?',
        )
        .all(limit),
    );
    return rows.map((row) => ({
      at: row.at,
      action: row.action,
      actor: row.actor,
      detail: parseDetail(row.detail),
    }));
  }

  close(): void {
    if (!this.#db.open) return;

    guarded('close', () => this.#db.close());
    log.info('close: store closed');
  }

  #insertAudit(entry: AuditEntry): void {
    this.#db
      .prepare('INSERT INTO audit (at, action, actor, detail) VALUES (?, ?, ?, ?)')
      .run(entry.at, entry.action, entry.actor, JSON.stringify(entry.detail));
  }

  #upsertVisit(visit: VisitRecord): void {
    this.#db
      .prepare(
        `INSERT INTO visits (id, at, gate, method, outcome, pass_id, masked_name, host_unit, refusal)
         VALUES (@id, @at, @gate, @method, @outcome, @passId, @maskedName, @hostUnit, @refusal)
         ON CONFLICT (id) DO UPDATE SET at = excluded.at, gate = excluded.gate, method = excluded.method,
           outcome = excluded.outcome, pass_id = excluded.pass_id, masked_name = excluded.masked_name,
           host_unit = excluded.host_unit, refusal = excluded.refusal`,
      )
      .run(visitParameters(visit));
  }

  #visitExists(visitId: string): boolean {
    return guarded(
      'find visit',
      () => this.#db.prepare('SELECT 1 FROM visits WHERE id = ?').get(visitId) !== undefined,
    );
  }
}

const selectVisits = `SELECT v.*, EXISTS (SELECT 1 FROM visit_photos p WHERE p.visit_id = v.id) AS has_photo FROM visits v`;

// Only the record's own fields reach SQL, so an object carrying extra data stores no more than it should.
function visitParameters(visit: VisitRecord): Record<string, string | number | null> {
  return {
    id: visit.id,
    at: visit.at,
    gate: visit.gate,
    method: visit.method,
    outcome: visit.outcome,
    passId: visit.passId,
    maskedName: visit.maskedName,
    hostUnit: visit.hostUnit,
    refusal: visit.refusal,
  };
}

function toVisit(row: VisitRow): StoredVisit {
  return {
    id: row.id,
    at: row.at,
    gate: row.gate,
    method: row.method as VisitMethod,
    outcome: row.outcome as VisitOutcome,
    passId: row.pass_id,
    maskedName: row.masked_name,
    hostUnit: row.host_unit,
    refusal: row.refusal as RefusalReason | null,
    hasPhoto: row.has_photo === 1,
  };
}

function parseDetail(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)
    : { value };
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new KioskError('bad_payload', `limit must be a whole number >= 0, got ${limit}`);
  }
}

/** Runs a store operation; any failure becomes a coded `store_failed` naming the operation. */
export function guarded<T>(operation: string, work: () => T): T {
  try {
    return work();
  } catch (cause) {
    throw asStoreError(`${operation} failed`, cause);
  }
}

/** A KioskError passes through; anything else becomes `store_failed` with its reason. */
export function asStoreError(message: string, cause: unknown): KioskError {
  if (cause instanceof KioskError) return cause;

  const reason = cause instanceof Error ? cause.message : String(cause);
  return new KioskError('store_failed', `${message}: ${reason}`, { cause });
}
