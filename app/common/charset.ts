/**
 * Turns the raw bytes of a QR payload into text. Byte-mode QR content carries no reliable
 * character set: Chinese encoders often write GBK without an ECI header, Japanese ones Shift_JIS,
 * and generic decoders guess Shift_JIS for both, turning Chinese into half-width katakana. We
 * honour an ECI when there is one, then try strict UTF-8, then weigh a Shift_JIS reading against
 * a GB18030 reading by how much each looks like real text, and fall back to ISO-8859-1 (the
 * standard's default for byte mode) when neither does. Runs in Node and in the browser alike.
 */

/** A payload's text and the character set that produced it. */
export interface DecodedPayload {
  text: string;
  charset: string;
}

/** Character set names this module reports, also the values of `DecodedPayload.charset`. */
export const charsets = {
  utf8: 'UTF-8',
  shiftJis: 'Shift_JIS',
  gb18030: 'GB18030',
  latin1: 'ISO-8859-1',
} as const;

/** Below this score a Shift_JIS or GB18030 reading is not believed and ISO-8859-1 is used. */
const minPlausibleScore = 1.5;

/**
 * ECI assignment numbers (AIM ECI specification) to WHATWG encoding labels. Numbers missing here
 * fall back to guessing, which beats failing a scan outright.
 */
const eciCharsets: Readonly<Record<number, string>> = {
  0: 'CP437',
  1: 'ISO-8859-1',
  2: 'CP437',
  3: 'ISO-8859-1',
  4: 'ISO-8859-2',
  5: 'ISO-8859-3',
  6: 'ISO-8859-4',
  7: 'ISO-8859-5',
  8: 'ISO-8859-6',
  9: 'ISO-8859-7',
  10: 'ISO-8859-8',
  11: 'ISO-8859-9',
  12: 'ISO-8859-10',
  13: 'windows-874',
  15: 'ISO-8859-13',
  16: 'ISO-8859-14',
  17: 'ISO-8859-15',
  18: 'ISO-8859-16',
  20: 'Shift_JIS',
  21: 'windows-1250',
  22: 'windows-1251',
  23: 'windows-1252',
  24: 'windows-1256',
  25: 'UTF-16BE',
  26: 'UTF-8',
  27: 'US-ASCII',
  28: 'Big5',
  29: 'GB18030',
  30: 'EUC-KR',
  31: 'GBK',
  32: 'GB18030',
  33: 'UTF-16LE',
  170: 'US-ASCII',
  899: 'binary',
};

/** Upper half of code page 437, which browsers' TextDecoder does not offer. */
const cp437High =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

/**
 * Decodes a QR payload. `eci` is the ECI assignment number as digits (e.g. "26") or a charset
 * label, or null when the symbol carried none.
 */
export function decodePayload(bytes: Uint8Array, eci: string | null): DecodedPayload {
  const declared = eci === null ? null : charsetForEci(eci);
  if (declared !== null) {
    const text = decodeAs(bytes, declared);
    // A payload that contradicts its own ECI is still better shown by guessing than dropped.
    if (text !== null) return { text, charset: declared };
  }

  return guessPayload(bytes);
}

/** The charset an ECI names: a known assignment number, or a label TextDecoder accepts. */
export function charsetForEci(eci: string): string | null {
  const trimmed = eci.trim().replace(/^\\/, '');
  if (/^\d{1,6}$/.test(trimmed)) return eciCharsets[Number(trimmed)] ?? null;

  return isKnownCharset(trimmed) ? trimmed : null;
}

function isKnownCharset(label: string): boolean {
  if (
    ['cp437', 'binary', 'iso-8859-1', 'us-ascii', 'utf-32be', 'utf-32le'].includes(
      label.toLowerCase(),
    )
  ) {
    return true;
  }

  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
}

/** Decodes strictly with `charset`; null when the bytes are not valid in it. */
export function decodeAs(bytes: Uint8Array, charset: string): string | null {
  switch (charset.toLowerCase()) {
    case 'iso-8859-1':
    case 'binary':
      // WHATWG maps the label iso-8859-1 to windows-1252; the QR default is true Latin-1.
      return latin1(bytes);
    case 'us-ascii':
      return bytes.every((byte) => byte < 0x80) ? latin1(bytes) : null;
    case 'cp437':
      return Array.from(bytes, (byte) =>
        byte < 0x80 ? String.fromCharCode(byte) : cp437High[byte - 0x80],
      ).join('');
    case 'utf-32be':
    case 'utf-32le':
      return utf32(bytes, charset.toLowerCase() === 'utf-32le');
    default:
      return strictDecode(bytes, charset);
  }
}

function strictDecode(bytes: Uint8Array, label: string): string | null {
  try {
    return new TextDecoder(label, { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

function latin1(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);

  return text;
}

function utf32(bytes: Uint8Array, littleEndian: boolean): string | null {
  if (bytes.length % 4 !== 0) return null;

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const codePoints: number[] = [];
  for (let offset = 0; offset < bytes.length; offset += 4) {
    const codePoint = view.getUint32(offset, littleEndian);
    if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return null;
    codePoints.push(codePoint);
  }

  return String.fromCodePoint(...codePoints);
}

/** Reads a payload that declared no charset: UTF-8, else the likelier of Shift_JIS and GB18030. */
export function guessPayload(bytes: Uint8Array): DecodedPayload {
  const utf8 = strictDecode(bytes, 'utf-8');
  if (utf8 !== null) return { text: utf8, charset: charsets.utf8 };

  const japanese = scoredReading(bytes, charsets.shiftJis, shiftJisUnits, shiftJisUnitScore);
  const chinese = scoredReading(bytes, charsets.gb18030, gb18030Units, gb18030UnitScore);
  // On a tie GB18030 wins: the kiosk serves Chinese gates, where GBK content is the common case.
  const japaneseWins = japanese !== null && (chinese === null || japanese.score > chinese.score);
  const best = japaneseWins ? japanese : chinese;
  if (best !== null && best.score >= minPlausibleScore) {
    return { text: best.text, charset: best.charset };
  }

  return { text: latin1(bytes), charset: charsets.latin1 };
}

/** One character's bytes within a payload, as a multi-byte charset splits it. */
interface Unit {
  start: number;
  length: number;
}

interface Reading {
  text: string;
  charset: string;
  score: number;
}

type UnitScorer = (
  bytes: Uint8Array,
  units: readonly Unit[],
  index: number,
  char: string,
) => number;

/** Splits, decodes and scores one candidate reading; null when the bytes are invalid in it. */
function scoredReading(
  bytes: Uint8Array,
  charset: string,
  split: (bytes: Uint8Array) => Unit[] | null,
  scoreUnit: UnitScorer,
): Reading | null {
  const units = split(bytes);
  if (units === null) return null;

  const decoder = new TextDecoder(charset, { fatal: true });
  let text = '';
  let score = 0;
  for (let index = 0; index < units.length; index += 1) {
    const unit = units[index];
    const char = decodeUnit(decoder, bytes.subarray(unit.start, unit.start + unit.length));
    if (char === null) return null;

    text += char;
    score += scoreUnit(bytes, units, index, char);
  }

  return { text, charset, score };
}

function decodeUnit(
  decoder: InstanceType<typeof TextDecoder>,
  unitBytes: Uint8Array,
): string | null {
  try {
    return decoder.decode(unitBytes);
  } catch {
    return null;
  }
}

const inRange = (value: number, low: number, high: number): boolean =>
  value >= low && value <= high;

const isPrivateUse = (char: string): boolean => {
  const codePoint = char.codePointAt(0) ?? 0;
  return inRange(codePoint, 0xe000, 0xf8ff) || inRange(codePoint, 0xf0000, 0x10ffff);
};

function shiftJisUnits(bytes: Uint8Array): Unit[] | null {
  const units: Unit[] = [];
  let start = 0;
  while (start < bytes.length) {
    const lead = bytes[start];
    const length = lead < 0x80 || inRange(lead, 0xa1, 0xdf) ? 1 : 2;
    const isLead = inRange(lead, 0x81, 0x9f) || inRange(lead, 0xe0, 0xfc);
    if (length === 2 && !(isLead && isShiftJisTrail(bytes[start + 1]))) return null;

    units.push({ start, length });
    start += length;
  }

  return units;
}

function isShiftJisTrail(byte: number | undefined): boolean {
  return byte !== undefined && (inRange(byte, 0x40, 0x7e) || inRange(byte, 0x80, 0xfc));
}

function gb18030Units(bytes: Uint8Array): Unit[] | null {
  const units: Unit[] = [];
  let start = 0;
  while (start < bytes.length) {
    const length = gb18030UnitLength(bytes, start);
    if (length === 0) return null;

    units.push({ start, length });
    start += length;
  }

  return units;
}

function gb18030UnitLength(bytes: Uint8Array, start: number): number {
  const [lead, second, third, fourth] = [
    bytes[start],
    bytes[start + 1],
    bytes[start + 2],
    bytes[start + 3],
  ];
  if (lead <= 0x80) return 1;
  if (lead === 0xff || second === undefined) return 0;
  if (inRange(second, 0x40, 0x7e) || inRange(second, 0x80, 0xfe)) return 2;

  const isFourByte =
    inRange(second, 0x30, 0x39) &&
    third !== undefined &&
    inRange(third, 0x81, 0xfe) &&
    fourth !== undefined &&
    inRange(fourth, 0x30, 0x39);
  return isFourByte ? 4 : 0;
}

/**
 * How much a GB18030 character looks like ordinary Chinese text. GB2312 holds nearly everything
 * Chinese QR encoders write; the GBK extension and four-byte forms are rare in real text but are
 * exactly what Shift_JIS hiragana, katakana and kanji turn into when read as GBK.
 */
function gb18030UnitScore(
  bytes: Uint8Array,
  units: readonly Unit[],
  index: number,
  char: string,
): number {
  const { start, length } = units[index];
  const [lead, trail] = [bytes[start], bytes[start + 1]];
  if (lead < 0x80) return 0;
  if (length === 1 || length === 4 || isPrivateUse(char)) return -3;

  const isGb2312 = inRange(trail, 0xa1, 0xfe);
  if (isGb2312 && inRange(lead, 0xb0, 0xd7)) return 2; // level 1: the 3755 common hanzi
  if (isGb2312 && inRange(lead, 0xd8, 0xf7)) return 1; // level 2: rarer hanzi
  if (isGb2312 && inRange(lead, 0xa1, 0xa9)) return 1; // full-width punctuation and symbols

  return trail < 0x80 ? -2 : -1;
}

/**
 * How much a Shift_JIS character looks like ordinary Japanese text. Kana and JIS level 1 kanji
 * count most. Half-width katakana are judged as runs, since GBK read as Shift_JIS produces them
 * too: see halfWidthKanaScore.
 */
function shiftJisUnitScore(
  bytes: Uint8Array,
  units: readonly Unit[],
  index: number,
  char: string,
): number {
  const { start, length } = units[index];
  const lead = bytes[start];
  if (lead < 0x80) return 0;
  if (length === 1) return halfWidthKanaScore(bytes, units, index);
  if (isPrivateUse(char)) return -3;

  const codePoint = char.codePointAt(0) ?? 0;
  if (inRange(codePoint, 0x3041, 0x3096) || inRange(codePoint, 0x30a1, 0x30fc)) return 2;
  if (lead === 0x87 || inRange(lead, 0xed, 0xee) || lead >= 0xfa) return -1; // vendor extensions
  if (inRange(lead, 0x88, 0x98)) return 2; // level 1 kanji (889F-9872) and their neighbours
  if (inRange(lead, 0x99, 0xea)) return 1; // level 2 kanji

  return 1; // full-width punctuation, digits, Latin, Greek, Cyrillic
}

const voicedMark = 0xde;
const semiVoicedMark = 0xdf;
const longVowelMark = 0xb0;
const kanaRunBase = 0.5;
const kanaMarkBonus = 3;

/** Half-width kana that take a voiced mark ﾞ: ｳ, ｶ to ﾄ, ﾊ to ﾎ. */
const takesVoicedMark = (byte: number): boolean =>
  byte === 0xb3 || inRange(byte, 0xb6, 0xc4) || inRange(byte, 0xca, 0xce);
/** Half-width kana that take a semi-voiced mark ﾟ: ﾊ to ﾎ. */
const takesSemiVoicedMark = (byte: number): boolean => inRange(byte, 0xca, 0xce);
/** Half-width katakana proper (ｦ to ﾝ), not punctuation or marks. */
const isHalfWidthKana = (byte: number): boolean => inRange(byte, 0xa6, 0xdd);

/**
 * Scores one half-width katakana byte by its neighbours. Each GBK hanzi read as Shift_JIS turns
 * into two such bytes, so a bare run earns little (half a point a byte, against two points per
 * hanzi for the GBK reading). Japanese half-width text shows itself by voiced marks and long
 * vowel marks placed after kana that take them; marks in impossible places, and lone kana
 * between kanji, are the signature of mojibake.
 */
function halfWidthKanaScore(bytes: Uint8Array, units: readonly Unit[], index: number): number {
  const byte = bytes[units[index].start];
  const previous =
    index > 0 && units[index - 1].length === 1 ? bytes[units[index - 1].start] : null;
  const next =
    index + 1 < units.length && units[index + 1].length === 1
      ? bytes[units[index + 1].start]
      : null;
  const inRun = (value: number | null): boolean => value !== null && inRange(value, 0xa1, 0xdf);
  if (!inRun(previous) && !inRun(next)) return -2;

  if (byte === voicedMark)
    return previous !== null && takesVoicedMark(previous) ? kanaMarkBonus : -2;
  if (byte === semiVoicedMark)
    return previous !== null && takesSemiVoicedMark(previous) ? kanaMarkBonus : -2;
  if (byte === longVowelMark) return previous !== null && isHalfWidthKana(previous) ? 1 : -2;

  return kanaRunBase;
}
