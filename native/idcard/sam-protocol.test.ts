import { describe, expect, it } from 'vitest';
import {
  decodeSamResponseFrame,
  encodeSamCommand,
  encodeSamResponse,
  samBytesFromHex,
  samCommandParser,
  samCommands,
  samHex,
  samResponseParser,
  type SamParseResult,
  type SamResponse,
} from './sam-protocol.js';

const hex = samBytesFromHex;

/** Every command frame in HARDWARE.md's table, as printed there. */
const table: [keyof typeof samCommands, string][] = [
  ['resetSam', 'AA AA AA 96 69 00 03 10 FF EC'],
  ['samStatus', 'AA AA AA 96 69 00 03 11 FF ED'],
  ['readSamId', 'AA AA AA 96 69 00 03 12 FF EE'],
  ['findCard', 'AA AA AA 96 69 00 03 20 01 22'],
  ['selectCard', 'AA AA AA 96 69 00 03 20 02 21'],
  ['readTextPhoto', 'AA AA AA 96 69 00 03 30 01 32'],
  ['readAppendedAddress', 'AA AA AA 96 69 00 03 30 03 30'],
  ['readTextPhotoFingerprint', 'AA AA AA 96 69 00 03 30 10 23'],
];

const findAnswer = 'AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97';
const noCardAnswer = encodeSamResponse(0x80);

function frames(results: SamParseResult<SamResponse>[]): SamResponse[] {
  return results.flatMap((result) => (result.kind === 'frame' ? [result.frame] : []));
}

function codes(results: SamParseResult<SamResponse>[]): string[] {
  return results.flatMap((result) => (result.kind === 'error' ? [result.error.code] : []));
}

describe('SAM command frames', () => {
  it.each(table)('encodes %s byte for byte as HARDWARE.md prints it', (name, printed) => {
    expect(samHex(encodeSamCommand(samCommands[name]))).toBe(printed);
  });

  it('encodes the reset variant one source uses (01 FF) with its own checksum', () => {
    expect(samHex(encodeSamCommand({ cmd: 0x01, para: 0xff }))).toBe(
      'AA AA AA 96 69 00 03 01 FF FD',
    );
  });

  it.each(table)('parses the %s frame back on the reader side', (name, printed) => {
    const [result] = samCommandParser().push(hex(printed));

    expect(result.kind).toBe('frame');
    if (result.kind !== 'frame') return;
    expect(result.frame.cmd).toBe(samCommands[name].cmd);
    expect(result.frame.para).toBe(samCommands[name].para);
  });
});

describe('SAM response frames', () => {
  it('encodes a find-card answer the way readers send it', () => {
    expect(samHex(encodeSamResponse(0x9f, new Uint8Array(4)))).toBe(findAnswer);
  });

  it('counts every byte after LEN, checksum included, in LEN', () => {
    const frame = encodeSamResponse(0x90, new Uint8Array(4 + 256 + 1024));

    expect(frame.length).toBe(1295);
    expect(samHex(frame.subarray(5, 7))).toBe('05 08');
  });

  it('decodes one whole frame into status and data', () => {
    expect(decodeSamResponseFrame(hex(findAnswer))).toEqual({
      sw1: 0,
      sw2: 0,
      status: 0x9f,
      data: new Uint8Array(4),
    });
  });

  it('refuses a frame with trailing bytes or cut short, with a code', () => {
    expect(() => decodeSamResponseFrame(hex(`${findAnswer} 00`))).toThrow(
      expect.objectContaining({ code: 'bad_frame' }),
    );
    expect(() => decodeSamResponseFrame(hex(findAnswer).subarray(0, 10))).toThrow(
      expect.objectContaining({ code: 'bad_frame' }),
    );
  });
});

describe('SamFrameParser', () => {
  it('assembles a frame fed one byte at a time', () => {
    const parser = samResponseParser();
    const results = Array.from(hex(findAnswer)).flatMap((byte) => parser.push(Uint8Array.of(byte)));

    expect(frames(results).map((frame) => frame.status)).toEqual([0x9f]);
    expect(codes(results)).toEqual([]);
    expect(parser.buffered).toBe(0);
  });

  it('returns every frame of a chunk that holds several', () => {
    const chunk = Buffer.concat([hex(findAnswer), noCardAnswer, hex(findAnswer)]);

    expect(frames(samResponseParser().push(chunk)).map((frame) => frame.status)).toEqual([
      0x9f, 0x80, 0x9f,
    ]);
  });

  it('skips garbage before a frame as one bad_frame run', () => {
    const results = samResponseParser().push(Buffer.concat([hex('01 02 AA 96 69'), noCardAnswer]));

    expect(codes(results)).toEqual(['bad_frame']);
    expect(results[0].bytes).toEqual(hex('01 02 AA 96 69'));
    expect(frames(results).map((frame) => frame.status)).toEqual([0x80]);
  });

  it('keeps only a tail of garbage that may begin a preamble', () => {
    const parser = samResponseParser();

    expect(codes(parser.push(hex('11 22 33 AA AA AA 96')))).toEqual(['bad_frame']);
    expect(parser.buffered).toBe(4);
    expect(frames(parser.push(noCardAnswer.subarray(4)))).toHaveLength(1);
  });

  it('reports a wrong checksum and parses the next frame', () => {
    const broken = Uint8Array.from(hex(findAnswer));
    broken[broken.length - 1] ^= 0xff;

    const results = samResponseParser().push(Buffer.concat([broken, noCardAnswer]));

    expect(codes(results)).toEqual(['checksum']);
    expect(results[0].bytes).toEqual(broken);
    expect(frames(results).map((frame) => frame.status)).toEqual([0x80]);
  });

  it('reports an oversized LEN at once instead of waiting for it, and resynchronises', () => {
    const results = samResponseParser().push(
      Buffer.concat([hex('AA AA AA 96 69 FF FF 00 00 90'), noCardAnswer]),
    );

    expect(codes(results)).toEqual(['oversized', 'bad_frame']);
    expect(frames(results).map((frame) => frame.status)).toEqual([0x80]);
  });

  it('takes its size limit from the options', () => {
    const parser = samResponseParser({ maxLength: 7 });

    expect(codes(parser.push(hex(findAnswer)))).toEqual(['oversized', 'bad_frame']);
  });

  it('refuses a LEN too short to hold a command', () => {
    expect(codes(samResponseParser().push(hex('AA AA AA 96 69 00 02 00 02')))).toEqual([
      'bad_frame',
      'bad_frame',
    ]);
  });

  it('refuses a checked frame too short to be a response', () => {
    const results = samResponseParser().push(encodeSamCommand(samCommands.findCard));

    expect(codes(results)).toEqual(['bad_frame']);
    expect(frames(results)).toEqual([]);
  });

  it('gives up a frame cut short as soon as a whole frame follows it', () => {
    const cut = encodeSamResponse(0x90, new Uint8Array(1284)).subarray(0, 300);

    const results = samResponseParser().push(Buffer.concat([cut, noCardAnswer]));

    expect(codes(results)).toEqual(['bad_frame']);
    expect(results[0].bytes).toEqual(cut);
    expect(frames(results).map((frame) => frame.status)).toEqual([0x80]);
  });

  it('recovers the frame inside an interleaved pair and drops the broken one around it', () => {
    const outer = hex(findAnswer);
    const interleaved = Buffer.concat([outer.subarray(0, 9), noCardAnswer, outer.subarray(9)]);

    const results = samResponseParser().push(interleaved);

    expect(frames(results).map((frame) => frame.status)).toEqual([0x80]);
    expect(codes(results).length).toBeGreaterThan(0);
  });

  it('prefers the whole frame inside when a cut one ends on a matching checksum by chance', () => {
    // A cut frame whose LEN (00 0B) reaches 8 bytes into the next one; its last body byte is
    // chosen so that the byte it takes as checksum (the next frame's 8th) matches.
    const cut = Uint8Array.from(hex('AA AA AA 96 69 00 0B 00 00 00'));
    const others = [...cut.subarray(5, 9), ...noCardAnswer.subarray(0, 7)];
    cut[9] = others.reduce((sum, byte) => sum ^ byte, noCardAnswer[7]);

    const results = samResponseParser().push(Buffer.concat([cut, noCardAnswer]));

    expect(codes(results)).toEqual(['bad_frame']);
    expect(results[0].bytes).toEqual(cut);
    expect(frames(results).map((frame) => frame.status)).toEqual([0x80]);
  });

  it('waits while such an inner frame is still arriving, then prefers it', () => {
    const cut = Uint8Array.from(hex('AA AA AA 96 69 00 0B 00 00 00'));
    const others = [...cut.subarray(5, 9), ...noCardAnswer.subarray(0, 7)];
    cut[9] = others.reduce((sum, byte) => sum ^ byte, noCardAnswer[7]);
    const parser = samResponseParser();

    const early = parser.push(Buffer.concat([cut, noCardAnswer.subarray(0, 9)]));
    const late = parser.push(noCardAnswer.subarray(9));

    expect(early).toEqual([]);
    expect(frames(late).map((frame) => frame.status)).toEqual([0x80]);
  });

  it('forgets a half frame on reset', () => {
    const parser = samResponseParser();
    parser.push(hex(findAnswer).subarray(0, 8));

    parser.reset();

    expect(parser.buffered).toBe(0);
    expect(frames(parser.push(noCardAnswer))).toHaveLength(1);
  });
});

describe('samBytesFromHex', () => {
  it('reads hex as technicians paste it', () => {
    expect(samHex(samBytesFromHex('0xAA aa:AA-96 69'))).toBe('AA AA AA 96 69');
  });

  it('refuses odd digits with bad_payload', () => {
    expect(() => samBytesFromHex('AAA')).toThrow(expect.objectContaining({ code: 'bad_payload' }));
  });
});
