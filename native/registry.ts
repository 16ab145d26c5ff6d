/**
 * The configured devices and what each has been doing, for the diagnostics screen, `kiosk doctor`
 * and the visitor's screen (which entry methods work now). Drivers know only their own state; the
 * registry watches them all and keeps the story a technician asks for: since when a device is in
 * its state, what it did last, what went wrong last and with which code, and how often.
 */
import { KioskError } from '../app/common/errors.js';
import type { DeviceState } from '../app/core/ports.js';

/** The kinds of device a kiosk may have, one entry method or output each. */
export const deviceKinds = ['relay', 'callButton', 'scanner', 'idCard'] as const;
export type DeviceKind = (typeof deviceKinds)[number];

/** The part of a driver the registry watches: every driver has it. */
export interface WatchableDevice {
  readonly state: DeviceState;
  onStateChange(listener: (state: DeviceState, error?: Error) => void): () => void;
}

/** One device as a technician sees it. */
export interface DeviceStatus {
  /** The configured name, e.g. `relay` or `scanner:serial`. */
  name: string;
  kind: DeviceKind;
  /** Where it is attached: a port path or a USB vendor:product id; never personal data. */
  address: string;
  state: DeviceState;
  /** Epoch ms of the last state change (or of registration). */
  since: number;
  /** What it did last (e.g. `scan`, `card`, `pulse`), never what was read. */
  lastEvent: { at: number; what: string } | null;
  lastError: { at: number; code: string; message: string } | null;
  counters: { events: number; errors: number; disconnects: number; reconnects: number };
}

type ChangeListener = (status: DeviceStatus) => void;

interface Entry {
  status: DeviceStatus;
  unsubscribe: () => void;
  // A device that has been connected once and comes back counts as a reconnect.
  everConnected: boolean;
}

/** Watches every configured device; `now` is injectable so tests can check the times. */
export class DeviceRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<ChangeListener>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Starts watching `device` under `name`; a second device under one name is a config bug. */
  add(name: string, kind: DeviceKind, address: string, device: WatchableDevice): void {
    if (this.entries.has(name)) {
      throw new KioskError('config_invalid', `two devices are configured as "${name}"`);
    }

    const status: DeviceStatus = {
      name,
      kind,
      address,
      state: device.state,
      since: this.now(),
      lastEvent: null,
      lastError: null,
      counters: { events: 0, errors: 0, disconnects: 0, reconnects: 0 },
    };
    const entry: Entry = { status, unsubscribe: () => undefined, everConnected: false };
    entry.everConnected = device.state === 'connected';
    entry.unsubscribe = device.onStateChange((state, error) => this.changed(entry, state, error));
    this.entries.set(name, entry);
  }

  /** Notes what a device just did; unknown names are ignored (a device removed at shutdown). */
  noteEvent(name: string, what: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;

    entry.status.lastEvent = { at: this.now(), what };
    entry.status.counters.events += 1;
    this.tell(entry);
  }

  /** Notes an error a device reported without changing its state (a bad frame, a timeout). */
  noteError(name: string, error: Error): void {
    const entry = this.entries.get(name);
    if (!entry) return;

    this.recordError(entry, error);
    this.tell(entry);
  }

  /** Every device, in the order they were added; copies, so callers cannot change the registry. */
  list(): DeviceStatus[] {
    return [...this.entries.values()].map((entry) => structuredClone(entry.status));
  }

  /** One device's status, or undefined when none has that name. */
  get(name: string): DeviceStatus | undefined {
    const entry = this.entries.get(name);
    return entry ? structuredClone(entry.status) : undefined;
  }

  /** True when a device of `kind` is configured and one of them is connected: that method works. */
  usable(kind: DeviceKind): boolean {
    const ofKind = [...this.entries.values()].filter((entry) => entry.status.kind === kind);
    return ofKind.length > 0 && ofKind.some((entry) => entry.status.state === 'connected');
  }

  /** True when a device of `kind` is configured at all. */
  has(kind: DeviceKind): boolean {
    return [...this.entries.values()].some((entry) => entry.status.kind === kind);
  }

  /** Calls `listener` with a device's new status after each change; returns the unsubscribe. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Stops watching every device (the drivers themselves are closed by their owners). */
  close(): void {
    for (const entry of this.entries.values()) entry.unsubscribe();
    this.entries.clear();
    this.listeners.clear();
  }

  private changed(entry: Entry, state: DeviceState, error?: Error): void {
    const { status } = entry;
    const was = status.state;
    status.state = state;
    status.since = this.now();

    if (state === 'disconnected' && was === 'connected') status.counters.disconnects += 1;
    if (state === 'connected' && entry.everConnected && was !== 'connected') {
      status.counters.reconnects += 1;
    }
    if (state === 'connected') entry.everConnected = true;
    if (error) this.recordError(entry, error);

    this.tell(entry);
  }

  private recordError(entry: Entry, error: Error): void {
    const code = error instanceof KioskError ? error.code : 'internal';
    entry.status.lastError = { at: this.now(), code, message: error.message };
    entry.status.counters.errors += 1;
  }

  private tell(entry: Entry): void {
    const snapshot = structuredClone(entry.status);
    for (const listener of [...this.listeners]) listener(snapshot);
  }
}
