/**
 * Turns HID-POS input reports (usage page 8C) into scans. Vendors lay the report out differently,
 * so a layout says where the length, data, symbology and "more follows" flag sit; a long code
 * spans several reports that are joined here. Pure: the driver feeds reports with the time they
 * arrived and calls expire() when no report has come for a while.
 *
 * Offsets count from byte 0 of the buffer node-hid delivers, which is the report ID. HARDWARE.md
 * numbers Honeywell's bytes after the report ID (length, a 3-byte AIM id, data "from byte 4"
 * cannot otherwise fit), so its data sits at 5 and its flag at 63 here; Newland's numbers are
 * taken as written. Every offset can be overridden where a scanner disagrees.
 */
import { KioskError } from '../../app/common/errors.js';
import {
  aimUsesEci,
  maxScanBytes,
  scanFromBytes,
  type ScannerScan,
} from '../../app/common/scanner-scan.js';

/** Where a vendor puts each part of a scanned-data input report. */
export interface HidPosLayout {
  /** The input report ID that carries scanned data; other reports are ignored. */
  reportId: number;
  /** Offset of the byte giving how many data bytes this report carries. */
  lengthAt: number;
  /** Offset of the first data byte. */
  dataAt: number;
  /** Most data bytes one report carries. */
  maxData: number;
  /** Offset of a 3-byte AIM symbology identifier such as `]Q1`, if the layout has one. */
  aimAt?: number;
  /** Offset of a vendor symbology byte, if the layout has one. */
  symbologyAt?: number;
  /**
   * Offset of a flag that is non-zero while more reports of the same code follow. Without it a
   * report filled to maxData means more may follow, and the code ends with the first shorter
   * report or, failing that, when the gap timeout passes.
   */
  moreAt?: number;
  /** Feature report (report ID first) that switches the scanner on after every open. */
  enableFeatureReport?: readonly number[];
}

/** The layouts known by name. */
export const hidPosLayouts = {
  /** Newland: report ID 02, length, up to 56 data bytes, symbology byte at 62. */
  newland: { reportId: 0x02, lengthAt: 1, dataAt: 2, maxData: 56, symbologyAt: 62 },
  /**
   * Honeywell: report ID 02, length, AIM id, data, a flag that is 0 on the last report. The
   * scanner stays silent until feature report FE is set to 01.
   */
  honeywell: {
    reportId: 0x02,
    lengthAt: 1,
    aimAt: 2,
    dataAt: 5,
    maxData: 58,
    moreAt: 63,
    enableFeatureReport: [0xfe, 0x01],
  },
} as const satisfies Record<string, HidPosLayout>;

/** A layout's name. */
export type HidPosLayoutName = keyof typeof hidPosLayouts;

/** What one report (or the gap after one) produced. */
export type HidPosResult =
  { kind: 'scan'; scan: ScannerScan } | { kind: 'error'; error: KioskError };

/** A code being collected from several reports. */
interface PartialCode {
  chunks: Uint8Array[];
  length: number;
  lastAt: number;
  aim?: string;
  symbology?: number;
}

/** Reads a layout by name, with overrides; throws `config_invalid` for impossible offsets. */
export function resolveHidPosLayout(
  layout: HidPosLayoutName | HidPosLayout,
  overrides: Partial<HidPosLayout> = {},
): HidPosLayout {
  if (typeof layout === 'string' && !Object.hasOwn(hidPosLayouts, layout))
    throw new KioskError('config_invalid', `unknown HID-POS layout ${layout}`);

  const base: HidPosLayout = typeof layout === 'string' ? hidPosLayouts[layout] : layout;

  const resolved: HidPosLayout = { ...base, ...overrides };
  checkLayout(resolved);
  return resolved;
}

function checkLayout(layout: HidPosLayout): void {
  const isByte = (value: number): boolean => Number.isInteger(value) && value >= 0 && value < 256;
  const isOffset = (value: number | undefined): boolean =>
    value === undefined || (isByte(value) && value >= 1);
  const offsets = [layout.lengthAt, layout.dataAt, layout.aimAt, layout.symbologyAt, layout.moreAt];
  const fits = layout.dataAt + layout.maxData <= 256;
  if (!isByte(layout.reportId) || !offsets.every(isOffset) || !(layout.maxData >= 1) || !fits)
    throw new KioskError('config_invalid', `impossible HID-POS layout ${JSON.stringify(layout)}`);
}

/** Joins HID-POS reports into scans for one layout. */
export class HidPosParser {
  private partial: PartialCode | undefined;
  // After an overlong code, its remaining reports are dropped until its last one.
  private discarding = false;

  /** `gapMs`: a partial code older than this is abandoned (or, without a flag, completed). */
  constructor(
    private readonly layout: HidPosLayout,
    private readonly gapMs = 200,
  ) {}

  /** True while a code is part-collected: the driver should call expire() after the gap. */
  get pending(): boolean {
    return this.partial !== undefined;
  }

  /** Feeds one input report that arrived at `now` (milliseconds, any monotonic clock). */
  push(report: Uint8Array, now: number): HidPosResult[] {
    if (report.length === 0 || report[0] !== this.layout.reportId) return [];

    const results = this.expire(now);
    const length = report[this.layout.lengthAt];
    const data = this.dataOf(report, length);
    if (data === undefined) {
      results.push(this.fail('bad_frame', `HID-POS report with a bad length byte (${length})`));
      return results;
    }

    const last = this.isLast(report, data.length);
    results.push(...this.append(report, data, now, last));
    return results;
  }

  /** Ends a partial code that has waited longer than the gap; call when no report came. */
  expire(now: number): HidPosResult[] {
    const partial = this.partial;
    if (!partial || now - partial.lastAt < this.gapMs) return [];

    this.partial = undefined;
    this.discarding = false;
    if (this.layout.moreAt === undefined) return this.complete(partial);

    return [
      {
        kind: 'error',
        error: new KioskError(
          'timeout',
          `HID-POS code abandoned: no report for ${this.gapMs} ms after ${partial.length} bytes`,
        ),
      },
    ];
  }

  /** Forgets any partial code, as after an unplug. */
  reset(): void {
    this.partial = undefined;
    this.discarding = false;
  }

  private dataOf(report: Uint8Array, length: number | undefined): Uint8Array | undefined {
    const { dataAt, maxData } = this.layout;
    if (length === undefined || length > maxData || dataAt + length > report.length)
      return undefined;

    return report.subarray(dataAt, dataAt + length);
  }

  private isLast(report: Uint8Array, length: number): boolean {
    const { moreAt, maxData } = this.layout;
    if (moreAt === undefined) return length < maxData;

    // A report too short to carry the flag cannot announce a continuation.
    return (report[moreAt] ?? 0) === 0;
  }

  private append(report: Uint8Array, data: Uint8Array, now: number, last: boolean): HidPosResult[] {
    if (this.discarding) {
      if (last) this.discarding = false;
      return [];
    }

    const partial = this.partial ?? this.start(report, now);
    partial.chunks.push(data.slice());
    partial.length += data.length;
    partial.lastAt = now;
    if (partial.length > maxScanBytes) return [this.overlong(last)];
    if (!last) return [];

    this.partial = undefined;
    return this.complete(partial);
  }

  private start(report: Uint8Array, now: number): PartialCode {
    const { aimAt, symbologyAt } = this.layout;
    const partial: PartialCode = { chunks: [], length: 0, lastAt: now };
    if (aimAt !== undefined && report.length >= aimAt + 3)
      partial.aim = String.fromCharCode(...report.subarray(aimAt, aimAt + 3));
    if (symbologyAt !== undefined) partial.symbology = report[symbologyAt];

    this.partial = partial;
    return partial;
  }

  private overlong(last: boolean): HidPosResult {
    this.partial = undefined;
    this.discarding = !last;
    return {
      kind: 'error',
      error: new KioskError('bad_frame', `HID-POS code over ${maxScanBytes} bytes dropped`),
    };
  }

  private complete(partial: PartialCode): HidPosResult[] {
    if (partial.length === 0) return [];

    const payload = joinChunks(partial.chunks, partial.length);
    const symbology =
      partial.aim ?? (partial.symbology === undefined ? undefined : hexByte(partial.symbology));
    const scan = scanFromBytes(payload, 'hid-pos', {
      eciProtocol: aimUsesEci(partial.aim),
      ...(symbology === undefined ? {} : { symbology }),
    });
    return [{ kind: 'scan', scan }];
  }

  private fail(code: 'bad_frame', message: string): HidPosResult {
    // A damaged report in the middle of a code damages the code.
    this.partial = undefined;
    this.discarding = false;
    return { kind: 'error', error: new KioskError(code, message) };
  }
}

function joinChunks(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return joined;
}

function hexByte(value: number): string {
  return `0x${value.toString(16).padStart(2, '0')}`;
}
