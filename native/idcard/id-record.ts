/**
 * What the kiosk keeps of an ID card: one typed record per card type, without the photo, with the
 * ID number's check digit verified and the validity dates judged against a clock. Masked copies
 * are what logs and technicians' tools show.
 */
import { KioskError } from '../../app/common/errors.js';
import { maskIdNumber, maskName } from '../../app/common/mask.js';

/** Sex as the card codes it: 1 male, 2 female, 0 unknown, 9 unstated. */
export type Sex = 'male' | 'female' | 'unknown' | 'unstated';

/** Fields of a mainland resident identity card. Dates are ISO `YYYY-MM-DD`. */
export interface ResidentCardFields {
  kind: 'resident';
  name: string;
  sex: Sex;
  /** Two digits, 01 Han … 56 Jino, 97 other, 98 naturalised. */
  ethnicityCode: string;
  birthDate: string;
  address: string;
  /** 18 characters, the last a check digit that may be X. */
  idNumber: string;
  issuingAuthority: string;
  validFrom: string;
  /** Undefined for a card valid for life (长期). */
  validTo: string | undefined;
}

/** Fields of a residence permit for Hong Kong, Macau and Taiwan residents (type `J`). */
export interface ResidencePermitFields extends Omit<ResidentCardFields, 'kind' | 'ethnicityCode'> {
  kind: 'residence_permit';
  /** The holder's travel permit number. */
  passNumber: string;
  /** How many times a permit has been issued to the holder, two digits. */
  issueCount: string;
}

/** Fields of a foreign permanent resident card, 2017 layout (type `I`). */
export interface ForeignPermanentCardFields {
  kind: 'foreign_permanent';
  englishName: string;
  chineseName: string;
  sex: Sex;
  /** The 15-character card number, in `idNumber` so every record has one. */
  idNumber: string;
  /** ISO 3166 three-letter code. */
  nationality: string;
  birthDate: string;
  validFrom: string;
  validTo: string | undefined;
  cardVersion: string;
  authorityCode: string;
}

/** The fields of any known card, as read from (or written to) a text block. */
export type IdCardFields = ResidentCardFields | ResidencePermitFields | ForeignPermanentCardFields;

/** Whether the card is valid on the clock's date. */
export type CardValidity = 'valid' | 'expired' | 'not_yet_valid';

/** One card as read: its fields and its validity on the day it was read. */
export type IdCardRecord = IdCardFields & { validity: CardValidity };

/** A read card and what came with it; the photo and fingerprint are counted, never kept. */
export interface IdCardRead {
  record: IdCardRecord;
  photoLength: number;
  fingerprintLength: number;
}

/** Where "today" comes from: injectable so tests can stand on either side of a validity date. */
export interface CardClock {
  /** Milliseconds since the epoch; Date.now by default. */
  now?: () => number;
  /** The card's dates are calendar dates where it was issued: China, UTC+8, by default. */
  utcOffsetMinutes?: number;
}

const checkWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const checkCharacters = '10X98765432';

/** The GB 11643 check character for the first 17 digits of an ID number. */
export function idNumberCheckCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) {
    throw new KioskError('card_invalid', 'an ID number starts with 17 digits');
  }

  const sum = checkWeights.reduce(
    (total, weight, index) => total + weight * Number(first17[index]),
    0,
  );
  return checkCharacters[sum % 11];
}

/** True when `idNumber` is 17 digits and its correct GB 11643 check character. */
export function isValidIdNumber(idNumber: string): boolean {
  if (!/^\d{17}[\dX]$/.test(idNumber)) return false;

  return idNumberCheckCharacter(idNumber.slice(0, 17)) === idNumber[17];
}

/** Today's date (ISO) at the card's place of issue. */
export function todayOn(clock: CardClock = {}): string {
  const now = (clock.now ?? Date.now)();
  const offsetMs = (clock.utcOffsetMinutes ?? 480) * 60_000;
  return new Date(now + offsetMs).toISOString().slice(0, 10);
}

/** Judges validity dates against `today`; both dates count as days the card is valid. */
export function cardValidity(
  validFrom: string,
  validTo: string | undefined,
  today: string,
): CardValidity {
  if (today < validFrom) return 'not_yet_valid';
  if (validTo !== undefined && today > validTo) return 'expired';

  return 'valid';
}

/** A copy fit for a log line or a technician's screen: identifiers and names masked. */
export function maskRecord(record: IdCardRecord): IdCardRecord {
  switch (record.kind) {
    case 'resident':
      return { ...record, ...maskedPerson(record), address: maskAddress(record.address) };
    case 'residence_permit':
      return {
        ...record,
        ...maskedPerson(record),
        address: maskAddress(record.address),
        passNumber: maskIdNumber(record.passNumber),
      };
    case 'foreign_permanent':
      return {
        ...record,
        englishName: maskName(record.englishName),
        chineseName: maskName(record.chineseName),
        idNumber: maskIdNumber(record.idNumber),
        birthDate: maskDate(record.birthDate),
      };
  }
}

/** A read with its record masked. */
export function maskRead(read: IdCardRead): IdCardRead {
  return { ...read, record: maskRecord(read.record) };
}

function maskedPerson(record: { name: string; idNumber: string; birthDate: string }): {
  name: string;
  idNumber: string;
  birthDate: string;
} {
  return {
    name: maskName(record.name),
    idNumber: maskIdNumber(record.idNumber),
    birthDate: maskDate(record.birthDate),
  };
}

// The year alone: the masked ID number shows the region, and the two together stay vague.
function maskDate(date: string): string {
  return `${date.slice(0, 4)}-**-**`;
}

// The first six characters name the province and city at most; the rest is a home address.
function maskAddress(address: string): string {
  const characters = Array.from(address);
  return characters.slice(0, 6).join('') + (characters.length > 6 ? '***' : '');
}
