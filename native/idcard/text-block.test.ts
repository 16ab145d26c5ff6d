import { describe, expect, it } from 'vitest';
import { KioskError } from '../../app/common/errors.js';
import {
  idNumberCheckCharacter,
  isValidIdNumber,
  maskRecord,
  type IdCardRecord,
} from './id-record.js';
import { cardTypeOffset, encodeTextBlock, parseTextBlock, textBlockLength } from './text-block.js';
import { clockInForce, foreignCard, residencePermit, residentCard } from './testing/cards.js';

/** Noon in Beijing on an ISO date. */
function on(date: string): { now: () => number } {
  return { now: () => Date.parse(`${date}T12:00:00+08:00`) };
}

function withChar(block: Uint8Array, byteOffset: number, char: string): Uint8Array {
  const copy = Uint8Array.from(block);
  copy.set(Buffer.from(char, 'utf16le'), byteOffset);
  return copy;
}

function codeOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    if (error instanceof KioskError) return error.code;
    throw error;
  }
  throw new Error('expected a KioskError');
}

describe('GB 11643 check digit', () => {
  it('gives X for the example in HARDWARE.md', () => {
    expect(idNumberCheckCharacter('11010519491231002')).toBe('X');
  });

  it('accepts a number with its check character and refuses any other', () => {
    expect(isValidIdNumber('11010519491231002X')).toBe(true);
    expect(isValidIdNumber('110105194912310021')).toBe(false);
    expect(isValidIdNumber('11010519491231002x')).toBe(false);
    expect(isValidIdNumber('1101051949123100')).toBe(false);
  });
});

describe('text block layout', () => {
  it('writes UCS-2 little-endian at the documented byte offsets, padded with spaces', () => {
    const block = Buffer.from(encodeTextBlock(residentCard));

    expect(block.length).toBe(textBlockLength);
    expect(block.subarray(0, 6).toString('utf16le')).toBe('李秀英');
    expect(block.subarray(6, 30).toString('utf16le')).toBe(' '.repeat(12));
    expect(block.subarray(30, 32).toString('utf16le')).toBe('2');
    expect(block.subarray(32, 36).toString('utf16le')).toBe('01');
    expect(block.subarray(36, 52).toString('utf16le')).toBe('19491231');
    expect(block.subarray(122, 158).toString('utf16le')).toBe('11010519491231002X');
    expect(block.subarray(188, 204).toString('utf16le')).toBe('20200101');
    expect(block.subarray(204, 220).toString('utf16le')).toBe('20400101');
    expect(block.subarray(cardTypeOffset, cardTypeOffset + 2).toString('utf16le')).toBe(' ');
  });

  it('puts J, the pass number at 220 and the issue count at 238 on a residence permit', () => {
    const block = Buffer.from(encodeTextBlock(residencePermit));

    expect(block.subarray(220, 238).toString('utf16le')).toBe('H12345678');
    expect(block.subarray(238, 242).toString('utf16le')).toBe('01');
    expect(block.subarray(248, 250).toString('utf16le')).toBe('J');
  });

  it('uses the foreign card layout for type I', () => {
    const block = Buffer.from(encodeTextBlock(foreignCard));

    expect(block.subarray(0, 42).toString('utf16le')).toBe('SMITH, JOHN ALEXANDER');
    expect(block.subarray(122, 152).toString('utf16le')).toBe('USA110085010101');
    expect(block.subarray(152, 158).toString('utf16le')).toBe('USA');
    expect(block.subarray(220, 236).toString('utf16le')).toBe('19850101');
    expect(block.subarray(248, 250).toString('utf16le')).toBe('I');
  });

  it('refuses to write a value longer than its field', () => {
    expect(codeOf(() => encodeTextBlock({ ...residentCard, name: '名'.repeat(16) }))).toBe(
      'bad_payload',
    );
  });
});

describe('parseTextBlock', () => {
  it.each([residentCard, residencePermit, foreignCard])(
    'reads a $kind card back into the same fields, padding stripped',
    (card) => {
      const record = parseTextBlock(encodeTextBlock(card), clockInForce);

      expect(record).toEqual({ ...card, validity: 'valid' });
    },
  );

  it('reads 长期 as a card that never expires', () => {
    const record = parseTextBlock(
      encodeTextBlock({ ...residentCard, validTo: undefined }),
      on('2199-01-01'),
    );

    expect(record.validTo).toBeUndefined();
    expect(record.validity).toBe('valid');
  });

  it('judges validity against the injected clock, both end dates included', () => {
    const block = encodeTextBlock(residentCard);

    expect(parseTextBlock(block, on('2019-12-31')).validity).toBe('not_yet_valid');
    expect(parseTextBlock(block, on('2020-01-01')).validity).toBe('valid');
    expect(parseTextBlock(block, on('2040-01-01')).validity).toBe('valid');
    expect(parseTextBlock(block, on('2040-01-02')).validity).toBe('expired');
  });

  it('takes the date in Beijing, not in UTC', () => {
    // 16:30 UTC on the last valid day is already the next day in Beijing.
    const lateUtc = { now: () => Date.parse('2040-01-01T16:30:00Z') };

    expect(parseTextBlock(encodeTextBlock(residentCard), lateUtc).validity).toBe('expired');
    expect(
      parseTextBlock(encodeTextBlock(residentCard), { ...lateUtc, utcOffsetMinutes: 0 }).validity,
    ).toBe('valid');
  });

  it.each(['Y', 'A', '\u00ff'])('refuses type character %j as unknown_card_type', (marker) => {
    const block = encodeTextBlock(foreignCard, { typeMarker: marker });

    expect(codeOf(() => parseTextBlock(block))).toBe('unknown_card_type');
  });

  it('refuses a wrong check digit without naming the number', () => {
    const block = withChar(encodeTextBlock(residentCard), 122 + 17 * 2, '1');

    expect(() => parseTextBlock(block)).toThrow(
      expect.objectContaining({
        code: 'card_invalid',
        message: expect.not.stringMatching(/110105/) as string,
      }),
    );
  });

  it.each([
    ['a birth date that is not in the number', { birthDate: '1949-12-30' }],
    ['a date that is not on the calendar', { validFrom: '2021-02-30' }],
    ['validity that ends before it starts', { validTo: '2019-01-01' }],
    ['an empty name', { name: '' }],
    ['an ethnicity that is not two digits', { ethnicityCode: 'x' }],
  ])('refuses %s as card_invalid', (_, change) => {
    const block = encodeTextBlock({ ...residentCard, ...change });

    expect(codeOf(() => parseTextBlock(block))).toBe('card_invalid');
  });

  it('refuses a sex code outside 0, 1, 2 and 9', () => {
    expect(codeOf(() => parseTextBlock(withChar(encodeTextBlock(residentCard), 30, '3')))).toBe(
      'card_invalid',
    );
  });

  it('refuses a block of the wrong size', () => {
    expect(codeOf(() => parseTextBlock(new Uint8Array(255)))).toBe('card_invalid');
  });
});

describe('maskRecord', () => {
  const record = (
    card: typeof residentCard | typeof residencePermit | typeof foreignCard,
  ): IdCardRecord => parseTextBlock(encodeTextBlock(card), clockInForce);

  it('masks the ID number, the name, the birth date and the address of a resident card', () => {
    const masked = maskRecord(record(residentCard));

    expect(masked).toMatchObject({
      kind: 'resident',
      idNumber: '110105********002X',
      name: '李**',
      birthDate: '1949-**-**',
      address: '北京市东城区***',
      validity: 'valid',
    });
    expect(JSON.stringify(masked)).not.toContain('11010519491231002X');
    expect(JSON.stringify(masked)).not.toContain('秀英');
  });

  it('masks the pass number of a residence permit', () => {
    const masked = maskRecord(record(residencePermit));

    expect(masked.kind === 'residence_permit' && masked.passNumber).toBe('*********');
    expect(masked.idNumber).toBe('810000********0019');
  });

  it('masks both names and the card number of a foreign card', () => {
    const masked = maskRecord(record(foreignCard));

    expect(masked).toMatchObject({
      englishName: 'S***',
      chineseName: '史**',
      idNumber: 'USA110*****0101',
    });
  });
});
