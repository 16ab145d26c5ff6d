/**
 * Plays a HID-POS scanner on the fake HID bus: it turns a code into the input reports of a
 * vendor layout, as the scanner's firmware would, so the driver and parser tests send the same
 * bytes a real Newland or Honeywell scanner sends.
 */
import type { FakeHidDevice } from '../../testing/fake-hid.js';
import type { HidPosLayout } from '../hid-pos-parser.js';

/** The size of a full-speed HID-POS input report, report ID included. */
export const hidPosReportLength = 64;

/** What a simulated code carries beside its bytes. */
export interface EncodeOptions {
  /** A 3-byte AIM identifier for layouts that have one. Default `]Q1` (QR, no ECI). */
  aim?: string;
  /** A vendor symbology byte for layouts that have one. Default 0x51. */
  symbology?: number;
}

/** The input reports `layout` puts `payload` in, each `hidPosReportLength` bytes long. */
export function encodeHidPosReports(
  layout: HidPosLayout,
  payload: Uint8Array,
  options: EncodeOptions = {},
): Uint8Array[] {
  const reports: Uint8Array[] = [];
  for (let start = 0; start < payload.length || start === 0; start += layout.maxData) {
    const chunk = payload.subarray(start, start + layout.maxData);
    const last = start + layout.maxData >= payload.length;
    reports.push(encodeReport(layout, chunk, last, options));
  }
  return reports;
}

function encodeReport(
  layout: HidPosLayout,
  chunk: Uint8Array,
  last: boolean,
  options: EncodeOptions,
): Uint8Array {
  const report = new Uint8Array(hidPosReportLength);
  report[0] = layout.reportId;
  report[layout.lengthAt] = chunk.length;
  report.set(chunk, layout.dataAt);
  if (layout.aimAt !== undefined) {
    const aim = options.aim ?? ']Q1';
    for (let index = 0; index < 3; index += 1) report[layout.aimAt + index] = aim.charCodeAt(index);
  }
  if (layout.symbologyAt !== undefined) report[layout.symbologyAt] = options.symbology ?? 0x51;
  if (layout.moreAt !== undefined) report[layout.moreAt] = last ? 0 : 1;
  return report;
}

/** A fake HID device that scans codes in a layout's reports. */
export class FakeHidPosScanner {
  constructor(
    readonly device: FakeHidDevice,
    readonly layout: HidPosLayout,
  ) {}

  /** Sends every report of one code. */
  scan(payload: Uint8Array, options: EncodeOptions = {}): void {
    for (const report of encodeHidPosReports(this.layout, payload, options))
      this.device.writeReport(report);
  }

  /** Sends only the first `reports` reports of a code, as a scanner unplugged mid-code would. */
  scanPart(payload: Uint8Array, reports: number): void {
    for (const report of encodeHidPosReports(this.layout, payload).slice(0, reports))
      this.device.writeReport(report);
  }
}
