import { describe, expect, it } from 'vitest';
import { encodeReadData } from '../../native/idcard/read-response.js';
import { encodeSamResponse, samHex } from '../../native/idcard/sam-protocol.js';
import { encodeTextBlock } from '../../native/idcard/text-block.js';
import { foreignCard, residentCard } from '../../native/idcard/testing/cards.js';
import { runCli } from './index.js';

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

const photo = new Uint8Array(1024).fill(0x33);

interface Printed {
  record: Record<string, unknown>;
  photoLength: number;
  fingerprintLength: number;
}

function printed(line: string | undefined): Printed {
  return JSON.parse(line ?? 'null') as Printed;
}
const inForce = ['--at', '2025-06-01T12:00+08:00'];

function frameHex(text = encodeTextBlock(residentCard), fingerprint?: Uint8Array): string {
  return samHex(encodeSamResponse(0x90, encodeReadData(text, photo, fingerprint)));
}

describe('kiosk idcard parse', () => {
  it('prints the record of a read answer as JSON with the ID number and name masked', async () => {
    const result = await run('idcard', 'parse', frameHex(), ...inForce);

    expect(result.code).toBe(0);
    const { record, ...lengths } = printed(result.out[0]);
    expect(record).toMatchObject({
      kind: 'resident',
      idNumber: '110105********002X',
      name: '李**',
      validity: 'valid',
    });
    expect(lengths).toEqual({ photoLength: 1024, fingerprintLength: 0 });
    expect(result.out.join('\n')).not.toContain(residentCard.idNumber);
  });

  it('prints the record in full with --unmasked', async () => {
    const result = await run('idcard', 'parse', '--unmasked', frameHex(), ...inForce);

    expect(result.code).toBe(0);
    expect(printed(result.out[0]).record).toEqual({ ...residentCard, validity: 'valid' });
  });

  it('reads a 30 10 answer and a bare text block, as pasted across several arguments', async () => {
    const withFingerprint = await run(
      'idcard',
      'parse',
      ...frameHex(encodeTextBlock(foreignCard), new Uint8Array(512)).split(' '),
    );
    const bare = await run('idcard', 'parse', samHex(encodeTextBlock(residentCard)));

    expect(printed(withFingerprint.out[0])).toMatchObject({
      record: { kind: 'foreign_permanent', idNumber: 'USA110*****0101' },
      fingerprintLength: 512,
    });
    expect(printed(bare.out[0])).toMatchObject({ record: { kind: 'resident' }, photoLength: 0 });
  });

  it('judges validity at the time given with --at', async () => {
    const result = await run('idcard', 'parse', frameHex(), '--at', '2041-01-01T00:00+08:00');

    expect(printed(result.out[0]).record.validity).toBe('expired');
  });

  it.each([
    ['a broken checksum', frameHex().replace(/ [0-9A-F]{2}$/, ' 00'), 'checksum'],
    [
      'an unknown card type',
      frameHex(encodeTextBlock(foreignCard, { typeMarker: 'Y' })),
      'unknown_card_type',
    ],
    ['bytes that are not hex', 'AA AA ZZ', 'bad_payload'],
    ['bytes that are neither frame nor block', '01 02 03', 'bad_frame'],
  ])('prints the error with its code and exits 1 on %s', async (_, hex, code) => {
    const result = await run('idcard', 'parse', hex);

    expect(result.code).toBe(1);
    expect(result.out).toEqual([]);
    expect(result.err.join('\n')).toMatch(new RegExp(`^error: .*\\(${code}\\)$`));
  });

  it('asks for the bytes', async () => {
    const result = await run('idcard', 'parse');

    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toMatch(/hex/);
  });
});
