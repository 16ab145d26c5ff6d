/**
 * Who may talk to the intercom server. Guards log in with a name and password and get a random
 * session token of which only the hash is stored; repeated failures are slowed down per name and
 * address, more loosely per address and per name (see LoginThrottle). Kiosks present their id and
 * the secret they got at enrolment.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { KioskError } from '../app/common/errors.js';
import { maskName } from '../app/common/mask.js';
import { moduleLogger } from '../app/core/log.js';
import type { ServerConfig } from './config.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import type { Guard, GuardAccount, KioskRecord, Role, ServerStore } from './store.js';

const log = moduleLogger('auth');

/** Refusal of a login attempt while its name, address or both together are locked out. */
export class ThrottledError extends KioskError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super('throttled', `too many failed logins: try again in ${retryAfterSeconds} s`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

interface FailureRecord {
  failures: number;
  lockedUntil: number;
  lastFailure: number;
}

// Bounds memory when someone sprays logins from many addresses or with many names.
const maxTrackedKeys = 10_000;

/** How many failures a key may have before delays start, and how the delays grow. */
export interface FailureLimits {
  freeFailures: number;
  /** The first delay; each further failure doubles it. */
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  /** A key with no failure for this long starts afresh; without it, failures count until forgotten. */
  quietSeconds?: number;
}

/** Counts failed logins per key and locks a key out for exponentially growing windows. */
export class FailureCounter {
  readonly #records = new Map<string, FailureRecord>();
  readonly #limits: FailureLimits;

  constructor(limits: FailureLimits) {
    this.#limits = limits;
  }

  /** Until when `key` is locked out; 0 when it never was. */
  lockedUntil(key: string): number {
    return this.#records.get(key)?.lockedUntil ?? 0;
  }

  /** Records one failure on `key`; past the free allowance each failure doubles the lockout. */
  fail(key: string, now: number): void {
    const record = this.#current(key, now) ?? { failures: 0, lockedUntil: 0, lastFailure: now };
    record.failures += 1;
    record.lastFailure = now;
    record.lockedUntil = now + this.#delayMs(record.failures);
    this.#records.delete(key);
    this.#records.set(key, record);
    this.#prune(now);
  }

  /** Forgets the failures of `key`. */
  forget(key: string): void {
    this.#records.delete(key);
  }

  #current(key: string, now: number): FailureRecord | undefined {
    const record = this.#records.get(key);
    const { quietSeconds } = this.#limits;
    if (!record || quietSeconds === undefined) return record;

    return now - record.lastFailure > quietSeconds * 1000 ? undefined : record;
  }

  #delayMs(failures: number): number {
    const { freeFailures, baseDelaySeconds, maxDelaySeconds } = this.#limits;
    if (failures < freeFailures) return 0;

    return Math.min(baseDelaySeconds * 2 ** (failures - freeFailures), maxDelaySeconds) * 1000;
  }

  #prune(now: number): void {
    if (this.#records.size <= maxTrackedKeys) return;

    // A key quiet for the longest lockout has nothing left to slow down.
    const quietMs = this.#limits.maxDelaySeconds * 1000;
    for (const [key, record] of this.#records) {
      if (record.lockedUntil <= now && now - record.lastFailure > quietMs)
        this.#records.delete(key);
    }
    // Still too many: drop the least recently failed (the map keeps failure order).
    for (const key of this.#records.keys()) {
      if (this.#records.size <= maxTrackedKeys) break;
      this.#records.delete(key);
    }
  }
}

/** How long a name's failures across addresses count without a new one; see LoginThrottle. */
const nameQuietSeconds = 3600;

/**
 * Slows down password guessing, counting failures three ways:
 * - per name and address, tightly (`freeFailures`): one address guessing one password stays slow,
 *   and locks that name out of that address only, so a stranger typing wrong passwords for a
 *   guard's name cannot keep the guard out from their own desk;
 * - per address, loosely (`freeFailuresPerAddress`): a spray of many names from one address;
 * - per name from all addresses, with a ceiling ten times the first (`freeFailuresPerName`) that
 *   resets after an hour without failures: each address alone is slowed long before it gets
 *   there, so only guessing spread over many addresses reaches it.
 * Neither the address nor the name ceiling applies where that name has logged in from that address
 * before: behind a reverse proxy or a NAT every guard shares one address, and guessing from
 * elsewhere must not lock out a guard who types their own password where they always do. Which
 * names logged in from where is kept in memory only, so after a restart the ceilings apply to
 * everyone until they log in once.
 */
export class LoginThrottle {
  readonly #pairs: FailureCounter;
  readonly #addresses: FailureCounter;
  readonly #names: FailureCounter;
  /** `address name` pairs that logged in, least recent first. */
  readonly #knownPairs = new Set<string>();

  constructor(settings: ServerConfig['loginThrottle']) {
    const { baseDelaySeconds, maxDelaySeconds } = settings;
    this.#pairs = new FailureCounter(settings);
    this.#addresses = new FailureCounter({
      freeFailures: settings.freeFailuresPerAddress,
      baseDelaySeconds,
      maxDelaySeconds,
    });
    this.#names = new FailureCounter({
      freeFailures: settings.freeFailuresPerName,
      baseDelaySeconds,
      maxDelaySeconds,
      quietSeconds: nameQuietSeconds,
    });
  }

  /** Throws ThrottledError when this name from this address, or the address or name, is locked. */
  check(name: string, address: string, now: number): void {
    const pair = pairKey(address, name);
    const known = this.#knownPairs.has(pair);
    const lockedUntil = Math.max(
      this.#pairs.lockedUntil(pair),
      known ? 0 : this.#addresses.lockedUntil(address),
      known ? 0 : this.#names.lockedUntil(nameKey(name)),
    );
    if (lockedUntil <= now) return;

    throw new ThrottledError(Math.ceil((lockedUntil - now) / 1000));
  }

  /** Records one failure on the name at this address, on the address and on the name. */
  fail(name: string, address: string, now: number): void {
    this.#pairs.fail(pairKey(address, name), now);
    this.#addresses.fail(address, now);
    this.#names.fail(nameKey(name), now);
  }

  /**
   * Forgets the name's failures at this address and remembers that it logs in from there. The
   * name's count across addresses stays: a guessing campaign must not restart whenever the guard
   * logs in.
   */
  succeed(name: string, address: string): void {
    const pair = pairKey(address, name);
    this.#pairs.forget(pair);

    this.#knownPairs.delete(pair);
    this.#knownPairs.add(pair);
    if (this.#knownPairs.size <= maxTrackedKeys) return;

    const oldest = this.#knownPairs.values().next();
    if (!oldest.done) this.#knownPairs.delete(oldest.value);
  }
}

function nameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

function pairKey(address: string, name: string): string {
  return `${address} ${nameKey(name)}`;
}

/** A successful login: the token goes to the browser only, in an HttpOnly cookie. */
export interface LoginResult {
  token: string;
  guard: Guard;
  expiresAt: number;
}

/** What an admin changes of a guard account; the password arrives as typed and is only hashed. */
export interface GuardUpdate {
  role?: Role;
  disabled?: boolean;
  password?: string;
}

/** Who changes an account: the admin's name and the token of the session they act in. */
export interface Actor {
  name: string;
  token: string;
}

/** What the authenticator works with. */
export interface AuthOptions {
  store: ServerStore;
  config: ServerConfig;
  now: () => number;
}

/** Guard logins and sessions, kiosk enrolment and kiosk authentication. */
export class Authenticator {
  readonly #store: ServerStore;
  readonly #config: ServerConfig;
  readonly #now: () => number;
  readonly #throttle: LoginThrottle;
  #decoyHash: Promise<string> | undefined;

  constructor(options: AuthOptions) {
    this.#store = options.store;
    this.#config = options.config;
    this.#now = options.now;
    this.#throttle = new LoginThrottle(options.config.loginThrottle);
  }

  /** Checks a guard's name and password; throws `unauthorised` or ThrottledError. */
  async login(name: string, password: string, remote: string): Promise<LoginResult> {
    this.#throttle.check(name, remote, this.#now());

    const found = this.#store.guardCredentials(name);
    // An unknown name costs the same scrypt as a known one, so timing does not reveal names.
    const matches = await verifyPassword(password, found?.passwordHash ?? (await this.#decoy()));
    if (!found || !matches || found.guard.disabled) {
      this.#refuseLogin(name, remote, found?.guard);
      throw new KioskError('unauthorised', 'wrong name or password');
    }

    this.#throttle.succeed(name, remote);
    await this.#upgradeHash(found.guard, password, found.passwordHash);
    return this.#openSession(found.guard, remote);
  }

  /** The guard holding a live session with this token, or undefined. */
  sessionGuard(token: string): Guard | undefined {
    return this.#store.sessionGuard(sha256(token), this.#now());
  }

  /** Ends a session; a token that was not live is ignored. */
  logout(token: string): void {
    const guard = this.sessionGuard(token);
    if (!this.#store.deleteSession(sha256(token)) || !guard) return;

    this.#audit('guard.logout', guard.name, {});
    log.info({ guardId: guard.id }, 'logout: session ended');
  }

  /** Creates a guard account with a freshly hashed password. */
  async createGuard(name: string, password: string, role: Role, actor: string): Promise<Guard> {
    const guard = this.#store.createGuard(name, await hashPassword(password), role, this.#now());

    this.#audit('guard.created', actor, { guard: name, role });
    log.info({ guardId: guard.id, role }, 'create guard: done');
    return guard;
  }

  /**
   * Changes a guard account as `actor` and audits each change (never the password). A disabled
   * guard's sessions end; so do those of a guard whose password was reset, except the session
   * the actor resets their own password in. Consoles still open on an ended session are the
   * caller's to close (GuardChannel.closeEndedSessions).
   */
  async updateGuard(name: string, update: GuardUpdate, actor: Actor): Promise<GuardAccount> {
    const passwordHash =
      update.password === undefined ? undefined : await hashPassword(update.password);
    const { before, after } = this.#store.updateGuard(name, {
      role: update.role,
      disabled: update.disabled,
      passwordHash,
    });

    const endSessions = after.disabled || passwordHash !== undefined;
    const keep = after.disabled ? undefined : sha256(actor.token);
    const sessionsEnded = endSessions ? this.#store.deleteGuardSessions(after.id, keep) : 0;

    this.#auditGuardChanges(before, after, passwordHash !== undefined, actor.name, sessionsEnded);
    log.info({ guardId: after.id, sessionsEnded }, 'update guard: done');
    return after;
  }

  /** Enrols a kiosk and returns its secret, which is shown this once and stored only hashed. */
  enrolKiosk(
    kiosk: Omit<KioskRecord, 'revoked'>,
    actor: string,
  ): { kiosk: KioskRecord; secret: string } {
    const secret = randomBytes(32).toString('base64url');
    const record = this.#store.createKiosk(kiosk, sha256(secret), this.#now());

    this.#audit('kiosk.enrolled', actor, { kioskId: kiosk.id, ringGroup: kiosk.ringGroup });
    log.info({ kioskId: kiosk.id }, 'enrol kiosk: done');
    return { kiosk: record, secret };
  }

  /**
   * Revokes a kiosk; it is refused from its next hello on. Revoking it again changes nothing and
   * is not audited again, so two admins revoking at once both see it done.
   */
  revokeKiosk(id: string, actor: string): void {
    const found = this.#store.kioskCredentials(id);
    if (!found) throw new KioskError('not_found', `no kiosk ${id}`);
    if (found.kiosk.revoked) {
      log.info({ kioskId: id }, 'revoke kiosk: already revoked');
      return;
    }

    this.#store.revokeKiosk(id);
    this.#audit('kiosk.revoked', actor, { kioskId: id });
    log.info({ kioskId: id }, 'revoke kiosk: done');
  }

  /** The kiosk whose id and secret these are; unknown, wrong or revoked is refused and audited. */
  authenticateKiosk(id: string, secret: string, remote: string): KioskRecord {
    const found = this.#store.kioskCredentials(id);
    // Kiosk secrets are 256 random bits, so a fast hash suffices; only the compare must be even.
    const matches = found !== undefined && sameText(sha256(secret), found.secretHash);
    const reason = !found
      ? 'unknown'
      : !matches
        ? 'wrong secret'
        : found.kiosk.revoked
          ? 'revoked'
          : null;
    if (!found || reason) {
      this.recordKioskRefusal(id, reason ?? 'unknown', remote);
      throw new KioskError('unauthorised', 'unknown kiosk, wrong secret or revoked');
    }

    return found.kiosk;
  }

  /** Audits and logs a refused kiosk connection; `kioskId` is null when it never said who it is. */
  recordKioskRefusal(kioskId: string | null, reason: string, remote: string): void {
    this.#audit('kiosk.refused', 'system', { kioskId, reason, remote });
    log.warn({ kioskId, reason, remote }, 'kiosk auth: refused');
  }

  /** Removes sessions past their expiry. */
  purgeExpiredSessions(): number {
    return this.#store.deleteExpiredSessions(this.#now());
  }

  #openSession(guard: Guard, remote: string): LoginResult {
    const token = randomBytes(32).toString('base64url');
    const now = this.#now();
    const expiresAt = now + this.#config.sessionHours * 3_600_000;
    this.#store.createSession(sha256(token), guard.id, now, expiresAt);

    this.#audit('guard.login', guard.name, { remote });
    log.info({ guardId: guard.id, remote }, 'login: session opened');
    return { token, guard, expiresAt };
  }

  #refuseLogin(name: string, remote: string, guard: Guard | undefined): void {
    this.#throttle.fail(name, remote, this.#now());

    // A name nobody has may be a password typed in the wrong field: it is neither stored nor logged.
    this.#audit('guard.login_failed', guard?.name ?? 'unknown', { remote });
    log.warn({ guard: guard ? guard.id : maskName(name), remote }, 'login: refused');
  }

  #auditGuardChanges(
    before: GuardAccount,
    after: GuardAccount,
    passwordReset: boolean,
    actor: string,
    sessionsEnded: number,
  ): void {
    const guard = after.name;
    if (before.role !== after.role) {
      this.#audit('guard.role_changed', actor, { guard, from: before.role, to: after.role });
    }
    if (before.disabled !== after.disabled) {
      const action = after.disabled ? 'guard.disabled' : 'guard.enabled';
      this.#audit(action, actor, after.disabled ? { guard, sessionsEnded } : { guard });
    }
    if (passwordReset) this.#audit('guard.password_reset', actor, { guard, sessionsEnded });
  }

  async #upgradeHash(guard: Guard, password: string, stored: string): Promise<void> {
    if (!needsRehash(stored)) return;

    this.#store.setPasswordHash(guard.id, await hashPassword(password));
    log.info({ guardId: guard.id }, 'login: password rehashed with current parameters');
  }

  #decoy(): Promise<string> {
    this.#decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
    return this.#decoyHash;
  }

  #audit(action: string, actor: string, detail: Record<string, unknown>): void {
    this.#store.appendAudit({ at: this.#now(), action, actor, detail });
  }
}

/** Hex SHA-256 of a token or secret, the form in which the store keeps them. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
