/**
 * The 256-byte text block of an ID card: UCS-2 little-endian, fixed fields padded with spaces, the
 * character at byte 248 telling the card type. Parsing checks every field, since the record goes
 * on to a visit record and a guard's screen; encoding builds test cards for the simulator.
 */
import { KioskError } from '../../app/common/errors.js';
import {
  cardValidity,
  isValidIdNumber,
  todayOn,
  type CardClock,
  type ForeignPermanentCardFields,
  type IdCardFields,
  type IdCardRecord,
  type ResidencePermitFields,
  type ResidentCardFields,
  type Sex,
} from './id-record.js';
import { parseError } from './sam-protocol.js';

/** Bytes in a text block. */
export const textBlockLength = 256;

/** Byte offset of the card type character. */
export const cardTypeOffset = 248;

/** What the valid-to field holds on a card valid for life. */
export const noExpiry = '长期';

/** A field as byte offset and byte length. */
type Field = readonly [offset: number, length: number];

const residentLayout = {
  name: [0, 30],
  sex: [30, 2],
  ethnicity: [32, 4],
  birthDate: [36, 16],
  address: [52, 70],
  idNumber: [122, 36],
  authority: [158, 30],
  validFrom: [188, 16],
  validTo: [204, 16],
  passNumber: [220, 18],
  issueCount: [238, 4],
} as const satisfies Record<string, Field>;

const foreignLayout = {
  englishName: [0, 120],
  sex: [120, 2],
  cardNumber: [122, 30],
  nationality: [152, 6],
  chineseName: [158, 30],
  validFrom: [188, 16],
  validTo: [204, 16],
  birthDate: [220, 16],
  cardVersion: [236, 4],
  authorityCode: [240, 8],
} as const satisfies Record<string, Field>;

const cardTypes = { resident: ' ', residence_permit: 'J', foreign_permanent: 'I' } as const;

const sexCodes: Record<string, Sex> = {
  '1': 'male',
  '2': 'female',
  '0': 'unknown',
  '9': 'unstated',
};

/** Parses a text block into a record, judging its validity on `clock`'s date. */
export function parseTextBlock(block: Uint8Array, clock: CardClock = {}): IdCardRecord {
  if (block.length !== textBlockLength) {
    throw new KioskError('card_invalid', `text block of ${block.length} bytes, not 256`);
  }

  const text = new TextBlockReader(block);
  const fields = parseFields(text);
  const today = todayOn(clock);
  return { ...fields, validity: cardValidity(fields.validFrom, fields.validTo, today) };
}

function parseFields(text: TextBlockReader): IdCardFields {
  const marker = text.raw([cardTypeOffset, 2]);
  // A resident card leaves the type character as padding; some writers leave it zero.
  if (marker === ' ' || marker === '\u0000') return parseResident(text);
  if (marker === cardTypes.residence_permit) return parsePermit(text);
  if (marker === cardTypes.foreign_permanent) return parseForeign(text);

  // Includes the 2023 foreign permanent resident card, whose layout is not known here.
  const code = marker.charCodeAt(0).toString(16).padStart(4, '0');
  throw parseError('unknown_card_type', `card type character U+${code} is not a known type`);
}

function parseResident(text: TextBlockReader): ResidentCardFields {
  const ethnicityCode = text.field(residentLayout.ethnicity);
  if (!/^\d{2}$/.test(ethnicityCode)) fieldError('ethnicity code');

  return { kind: 'resident', ...parsePerson(text), ethnicityCode };
}

function parsePermit(text: TextBlockReader): ResidencePermitFields {
  const passNumber = text.field(residentLayout.passNumber);
  const issueCount = text.field(residentLayout.issueCount);
  if (!/^[A-Z0-9]{8,9}$/.test(passNumber)) fieldError('pass number');
  if (!/^\d{2}$/.test(issueCount)) fieldError('issue count');

  return { kind: 'residence_permit', ...parsePerson(text), passNumber, issueCount };
}

/** The fields resident cards and residence permits share. */
function parsePerson(text: TextBlockReader): Omit<ResidentCardFields, 'kind' | 'ethnicityCode'> {
  const name = text.field(residentLayout.name);
  const idNumber = text.field(residentLayout.idNumber);
  const birthDate = parseDate(text.field(residentLayout.birthDate), 'birth date');
  if (name === '') fieldError('name');
  if (!isValidIdNumber(idNumber)) fieldError('ID number (format or GB 11643 check digit)');
  // Digits 7 to 14 of the number are the birth date: a mismatch means a misread block.
  if (idNumber.slice(6, 14) !== birthDate.replaceAll('-', '')) fieldError('birth date');

  return {
    name,
    sex: parseSex(text.field(residentLayout.sex)),
    birthDate,
    address: text.field(residentLayout.address),
    idNumber,
    issuingAuthority: text.field(residentLayout.authority),
    ...parseValidity(text),
  };
}

function parseForeign(text: TextBlockReader): ForeignPermanentCardFields {
  const idNumber = text.field(foreignLayout.cardNumber);
  const nationality = text.field(foreignLayout.nationality);
  const englishName = text.field(foreignLayout.englishName);
  // The check of this card number is not described here: the format is all that is checked.
  if (!/^[A-Z]{3}\d{12}$/.test(idNumber)) fieldError('card number');
  if (!/^[A-Z]{3}$/.test(nationality)) fieldError('nationality code');
  if (englishName === '') fieldError('English name');

  return {
    kind: 'foreign_permanent',
    englishName,
    chineseName: text.field(foreignLayout.chineseName),
    sex: parseSex(text.field(foreignLayout.sex)),
    idNumber,
    nationality,
    birthDate: parseDate(text.field(foreignLayout.birthDate), 'birth date'),
    ...parseValidity(text),
    cardVersion: text.field(foreignLayout.cardVersion),
    authorityCode: text.field(foreignLayout.authorityCode),
  };
}

/** Both layouts keep the validity dates at 188 and 204. */
function parseValidity(text: TextBlockReader): { validFrom: string; validTo: string | undefined } {
  const validFrom = parseDate(text.field(residentLayout.validFrom), 'valid-from date');
  const to = text.field(residentLayout.validTo);
  const validTo = to === noExpiry ? undefined : parseDate(to, 'valid-to date');
  if (validTo !== undefined && validTo < validFrom)
    fieldError('validity dates (ends before start)');

  return { validFrom, validTo };
}

function parseSex(code: string): Sex {
  const sex = sexCodes[code];
  if (!sex) fieldError('sex code');

  return sex;
}

/** `YYYYMMDD` as ISO, refusing anything that is not a calendar date. */
function parseDate(value: string, what: string): string {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!match) fieldError(what);

  const [year, month, day] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || year < 1900)
    fieldError(what);

  return `${match[1]}-${match[2]}-${match[3]}`;
}

// Messages name the field, never its value: they reach logs and screens. Like parse errors they
// carry no stack, which would only point here.
function fieldError(what: string): never {
  throw parseError('card_invalid', `ID card text block has a bad ${what}`);
}

/** Reads fields out of a block by byte offset. */
class TextBlockReader {
  private readonly text: string;

  constructor(block: Uint8Array) {
    this.text = Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('utf16le');
  }

  /** The field without its padding. */
  field(field: Field): string {
    return stripPadding(this.raw(field));
  }

  raw([offset, length]: Field): string {
    return this.text.slice(offset / 2, (offset + length) / 2);
  }
}

/** `value` without the spaces (or, from some writers, NULs) around it. */
function stripPadding(value: string): string {
  const padding = (char: string | undefined): boolean => char === ' ' || char === '\u0000';
  let start = 0;
  let end = value.length;
  while (start < end && padding(value[start])) start += 1;
  while (end > start && padding(value[end - 1])) end -= 1;
  return value.slice(start, end);
}

/** How a test card's block is written. */
export interface EncodeOptions {
  /** The character written at byte 248 instead of the kind's own, to play an unknown card. */
  typeMarker?: string;
}

/** Writes a card's fields into a text block, as a card would hold them; for tests and simulators. */
export function encodeTextBlock(fields: IdCardFields, options: EncodeOptions = {}): Uint8Array {
  const writer = new TextBlockWriter();
  if (fields.kind === 'foreign_permanent') writeForeign(writer, fields);
  else writePerson(writer, fields);

  writer.put([cardTypeOffset, 2], options.typeMarker ?? cardTypes[fields.kind]);
  return Uint8Array.from(writer.block);
}

function writePerson(
  writer: TextBlockWriter,
  fields: ResidentCardFields | ResidencePermitFields,
): void {
  const layout = residentLayout;
  writer.put(layout.name, fields.name);
  writer.put(layout.sex, sexCode(fields.sex));
  writer.put(layout.birthDate, compactDate(fields.birthDate));
  writer.put(layout.address, fields.address);
  writer.put(layout.idNumber, fields.idNumber);
  writer.put(layout.authority, fields.issuingAuthority);
  writeValidity(writer, fields);
  if (fields.kind === 'resident') {
    writer.put(layout.ethnicity, fields.ethnicityCode);
    return;
  }

  writer.put(layout.passNumber, fields.passNumber);
  writer.put(layout.issueCount, fields.issueCount);
}

function writeForeign(writer: TextBlockWriter, fields: ForeignPermanentCardFields): void {
  const layout = foreignLayout;
  writer.put(layout.englishName, fields.englishName);
  writer.put(layout.sex, sexCode(fields.sex));
  writer.put(layout.cardNumber, fields.idNumber);
  writer.put(layout.nationality, fields.nationality);
  writer.put(layout.chineseName, fields.chineseName);
  writer.put(layout.birthDate, compactDate(fields.birthDate));
  writer.put(layout.cardVersion, fields.cardVersion);
  writer.put(layout.authorityCode, fields.authorityCode);
  writeValidity(writer, fields);
}

function writeValidity(writer: TextBlockWriter, fields: IdCardFields): void {
  writer.put(residentLayout.validFrom, compactDate(fields.validFrom));
  writer.put(
    residentLayout.validTo,
    fields.validTo === undefined ? noExpiry : compactDate(fields.validTo),
  );
}

function sexCode(sex: Sex): string {
  return Object.keys(sexCodes).find((code) => sexCodes[code] === sex) ?? '0';
}

function compactDate(iso: string): string {
  return iso.replaceAll('-', '');
}

/** A block of padding spaces that fields are written into. */
class TextBlockWriter {
  readonly block = Buffer.from(' '.repeat(textBlockLength / 2), 'utf16le');

  put([offset, length]: Field, value: string): void {
    const bytes = Buffer.from(value, 'utf16le');
    if (bytes.length > length) {
      throw new KioskError(
        'bad_payload',
        `a value of ${bytes.length} bytes in a ${length}-byte field`,
      );
    }

    // Clear the field first: a shorter value must not leave another's tail behind.
    this.block.fill(Buffer.from(' ', 'utf16le'), offset, offset + length);
    bytes.copy(this.block, offset);
  }
}
