/**
 * Which kiosks are online and when the others were last seen, for the console's kiosks page. The
 * channel knows the online kiosks; the store keeps, for each kiosk, when its last connection ended
 * and the version it reported, so an offline kiosk still shows when it went away after a restart.
 * Sightings are written in batches: a thousand kiosks reconnecting cost one sync, not a thousand.
 */
import { moduleLogger } from '../app/core/log.js';
import type { KioskChannel, OnlineKiosk } from './kiosk-channel.js';
import type { KioskSighting, KioskStatus, ServerStore } from './store.js';

const log = moduleLogger('kiosk-presence');

/** One kiosk as the kiosks page lists it; never a secret. */
export interface KioskListEntry {
  id: string;
  name: string;
  online: boolean;
  connectedAt: number | null;
  lastSeenAt: number | null;
  version: string | null;
  revoked: boolean;
}

/** What admins see beyond a guard's view. */
export interface AdminKioskListEntry extends KioskListEntry {
  ringGroup: string | null;
}

/** What the presence tracker is built from. */
export interface KioskPresenceOptions {
  kiosks: KioskChannel;
  store: Pick<ServerStore, 'listKioskStatus' | 'recordKiosksSeen'>;
  now: () => number;
  /** How long sightings wait to be written together. */
  flushMs?: number;
}

/** Tracks kiosk sightings and lists kiosks with their online state. */
export class KioskPresence {
  readonly #kiosks: KioskChannel;
  readonly #store: KioskPresenceOptions['store'];
  readonly #now: () => number;
  readonly #flushMs: number;
  readonly #pending = new Map<string, KioskSighting>();
  #timer: NodeJS.Timeout | undefined;
  readonly #detach: () => void;

  constructor(options: KioskPresenceOptions) {
    this.#kiosks = options.kiosks;
    this.#store = options.store;
    this.#now = options.now;
    this.#flushMs = options.flushMs ?? 1000;

    const online = (kiosk: OnlineKiosk) =>
      this.#note({ kioskId: kiosk.kiosk.id, at: kiosk.connectedAt, version: kiosk.version });
    const offline = (kioskId: string) => this.#note({ kioskId, at: this.#now() });
    this.#kiosks.on('online', online);
    this.#kiosks.on('offline', offline);
    this.#detach = () => {
      this.#kiosks.off('online', online);
      this.#kiosks.off('offline', offline);
    };
  }

  /** Every enrolled kiosk, by id, with admin-only fields. */
  list(): AdminKioskListEntry[] {
    return this.#store.listKioskStatus().map((status) => this.#entry(status));
  }

  /** The same list without the fields only admins see. */
  listForGuard(): KioskListEntry[] {
    return this.list().map(({ ringGroup: _ringGroup, ...entry }) => entry);
  }

  /** Writes what is pending and stops listening (the server is shutting down). */
  close(): void {
    this.#detach();
    this.flush();
  }

  /** Writes the pending sightings now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const sightings = [...this.#pending.values()];
    this.#pending.clear();

    try {
      this.#store.recordKiosksSeen(sightings);
    } catch (error) {
      // Last-seen times are a convenience; losing them must not disturb calls.
      log.error({ err: error, kiosks: sightings.length }, 'flush: sightings lost');
    }
  }

  #note(sighting: KioskSighting): void {
    const earlier = this.#pending.get(sighting.kioskId);
    this.#pending.set(sighting.kioskId, {
      ...sighting,
      version: sighting.version ?? earlier?.version,
    });
    this.#timer ??= setTimeout(() => this.flush(), this.#flushMs).unref();
  }

  #entry(status: KioskStatus): AdminKioskListEntry {
    const online = this.#kiosks.onlineKiosk(status.id);
    const pending = this.#pending.get(status.id);

    return {
      id: status.id,
      name: status.name,
      online: online !== undefined,
      connectedAt: online?.connectedAt ?? null,
      lastSeenAt: online?.lastSeenAt ?? pending?.at ?? status.lastSeenAt,
      version: online?.version ?? pending?.version ?? status.version,
      revoked: status.revoked,
      ringGroup: status.ringGroup,
    };
  }
}
