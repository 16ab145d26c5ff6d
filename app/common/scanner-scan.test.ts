import { describe, expect, it } from 'vitest';
import { ScanReportSchema } from '../contract/api.js';
import { aimUsesEci, scanFromBytes, toScanReport } from './scanner-scan.js';

describe('scanner scans', () => {
  it('decode GBK bytes with the project charset rules and keep the bytes', () => {
    const bytes = Uint8Array.from([0xb7, 0xc3, 0xbf, 0xcd]);

    expect(scanFromBytes(bytes, 'serial')).toEqual({
      text: '访客',
      bytesHex: 'b7c3bfcd',
      charset: 'GB18030',
      bytes,
      source: 'serial',
    });
  });

  it('read ECI escapes only when told the data uses the ECI protocol', () => {
    const escaped = new TextEncoder().encode('\\000026ok');

    expect(scanFromBytes(escaped, 'hid-pos', { eciProtocol: true })).toMatchObject({
      text: 'ok',
      bytesHex: '6f6b',
    });
    expect(scanFromBytes(escaped, 'hid-pos').text).toBe('\\000026ok');
  });

  it('know which AIM identifiers announce the ECI protocol', () => {
    expect([']Q2', ']Q4', ']Q6', ']d4'].map(aimUsesEci)).toEqual([true, true, true, true]);
    expect([']Q1', ']Q3', ']d1', ']C0', 'Q2', undefined].map(aimUsesEci)).toEqual(
      Array(6).fill(false),
    );
  });

  it('become a contract scan report from the scanner source', () => {
    const scan = scanFromBytes(new TextEncoder().encode('PASS'), 'keyboard', { symbology: ']Q1' });

    const report = toScanReport(scan);

    expect(ScanReportSchema.parse(report)).toEqual({
      text: 'PASS',
      bytesHex: '50415353',
      charset: 'UTF-8',
      source: 'scanner',
    });
  });
});
