/**
 * The interfaces the core's parts meet at. Each has one real implementation and may have fakes in
 * tests; keeping them here lets the visit flow, the gate, the store and the drivers be built and
 * tested apart.
 */
import type { RefusalReason } from '../contract/api.js';

/** One line of the audit log: who did what to the gate or the kiosk, and why. */
export interface AuditEntry {
  at: number;
  /** e.g. `gate.open`, `pass.refused`, `gate.pulse_failed`. */
  action: string;
  /** `pass:<id>`, `guard:<name>`, `technician`, `kiosk`. */
  actor: string;
  detail: Record<string, unknown>;
}

export type VisitMethod = 'pass' | 'guard' | 'registration';
export type VisitOutcome = 'admitted' | 'refused' | 'abandoned';

/** What is kept about one visit. Names are stored masked; no raw ID data reaches this record. */
export interface VisitRecord {
  id: string;
  at: number;
  gate: string;
  method: VisitMethod;
  outcome: VisitOutcome;
  passId: string | null;
  maskedName: string | null;
  hostUnit: string | null;
  refusal: RefusalReason | null;
}

/** The kiosk's local store. Every write is committed (synchronously) before the call returns. */
export interface KioskStore {
  appendAudit(entry: AuditEntry): void;
  /**
   * Records an admitted entry on a pass in one transaction: the visit, the use and the audit line.
   * Returns false, writing nothing, when the pass already has `allowedEntries` uses.
   */
  admitWithPass(
    visit: VisitRecord,
    passId: string,
    allowedEntries: number,
    audit: AuditEntry,
  ): boolean;
  saveVisit(visit: VisitRecord): void;
  attachPhoto(visitId: string, jpeg: Uint8Array): void;
  passUses(passId: string): number;
  getVisit(visitId: string): (VisitRecord & { hasPhoto: boolean }) | undefined;
  listVisits(limit: number): Array<VisitRecord & { hasPhoto: boolean }>;
  listAudit(limit: number): AuditEntry[];
  close(): void;
}

export type DeviceState = 'connecting' | 'connected' | 'disconnected' | 'error';

/** A relay board channel that opens the barrier. Drivers never latch: the core asks for pulses. */
export interface RelayDriver {
  readonly state: DeviceState;
  /** Opens the port and drives every channel off; on reconnect it drives them off again. */
  open(): Promise<void>;
  /** Closes the contact for `ms` milliseconds, then opens it; resolves once the off frame is sent. */
  pulse(ms: number): Promise<void>;
  /** Every state change, with the error that caused a disconnect; returns an unsubscribe. */
  onStateChange(listener: (state: DeviceState, error?: Error) => void): () => void;
  close(): Promise<void>;
}

/** A physical call button. It reports presses and its connection, and reconnects by itself. */
export interface CallButton {
  readonly state: DeviceState;
  /** Calls `listener` on each press (released to pressed, debounced); returns an unsubscribe. */
  onPress(listener: () => void): () => void;
  /** Every state change, with the error that caused a disconnect; returns an unsubscribe. */
  onStateChange(listener: (state: DeviceState, error?: Error) => void): () => void;
  /** Stops reading and reconnecting; safe while a read is pending and when called twice. */
  close(): Promise<void>;
}
