import { describe, expect, it } from 'vitest';
import { charsetForEci, decodeAs, decodePayload } from './charset.js';

const bytesOf = (hex: string): Uint8Array =>
  Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));

/**
 * Builds an encoder for a legacy charset by running its TextDecoder over every one- and two-byte
 * sequence, so the tests can produce real GBK and Shift_JIS bytes without an encoding library.
 */
function legacyEncoder(
  label: string,
  leadRanges: [number, number][],
  singleBytes: number[],
): (text: string) => Uint8Array {
  const decoder = new TextDecoder(label);
  const table = new Map<string, number[]>();
  for (const byte of singleBytes) table.set(decoder.decode(Uint8Array.of(byte)), [byte]);
  for (const [low, high] of leadRanges) {
    for (let lead = low; lead <= high; lead += 1) {
      for (let trail = 0x40; trail <= 0xfe; trail += 1) {
        const char = decoder.decode(Uint8Array.of(lead, trail));
        if (Array.from(char).length === 1 && char !== '\ufffd' && !table.has(char))
          table.set(char, [lead, trail]);
      }
    }
  }

  return (text) =>
    Uint8Array.from(
      Array.from(text).flatMap((char) => {
        const bytes = table.get(char);
        if (!bytes) throw new Error(`${label} cannot encode ${char}`);
        return bytes;
      }),
    );
}

const ascii = Array.from({ length: 0x80 }, (_, byte) => byte);
const halfWidthKatakana = Array.from({ length: 0xdf - 0xa1 + 1 }, (_, offset) => 0xa1 + offset);
const toShiftJis = legacyEncoder(
  'shift_jis',
  [
    [0x81, 0x9f],
    [0xe0, 0xfc],
  ],
  [...ascii, ...halfWidthKatakana],
);
const toGbk = legacyEncoder('gbk', [[0x81, 0xfe]], ascii);

describe('decodePayload without an ECI', () => {
  it('reads valid UTF-8 as UTF-8', () => {
    expect(decodePayload(bytesOf('e4bda0e5a5bd'), null)).toEqual({
      text: '你好',
      charset: 'UTF-8',
    });
  });

  it('reads plain ASCII and empty payloads as UTF-8', () => {
    expect(decodePayload(new TextEncoder().encode('PASS:42'), null)).toEqual({
      text: 'PASS:42',
      charset: 'UTF-8',
    });
    expect(decodePayload(new Uint8Array(), null)).toEqual({ text: '', charset: 'UTF-8' });
  });

  it('reads the two-character GBK greeting as Chinese, not as half-width katakana', () => {
    expect(decodePayload(bytesOf('c4e3bac3'), null)).toEqual({ text: '你好', charset: 'GB18030' });
  });

  it('reads Shift_JIS hiragana and kanji as Japanese', () => {
    expect(decodePayload(bytesOf('82b182f182c982bf82cd90a28a45'), null)).toEqual({
      text: 'こんにちは世界',
      charset: 'Shift_JIS',
    });
  });

  it('keeps Japanese half-width katakana with voiced marks as Shift_JIS', () => {
    const payload = bytesOf('2ac3debbdeb2dd51522a0d0a');

    expect(decodePayload(payload, null)).toEqual({ text: '*ﾃﾞｻﾞｲﾝQR*\r\n', charset: 'Shift_JIS' });
  });

  it('reads a single Shift_JIS kanji from a Kanji-mode segment as Japanese', () => {
    expect(decodePayload(bytesOf('90bd'), null)).toEqual({ text: '誠', charset: 'Shift_JIS' });
  });

  it('reads one GB2312 hanzi among ASCII and control bytes as Chinese', () => {
    const payload = bytesOf('011041443a5355423ab0a23b3b');

    expect(decodePayload(payload, null)).toEqual({
      text: '\u0001\u0010AD:SUB:阿;;',
      charset: 'GB18030',
    });
  });

  it.each([
    '张伟',
    '欢迎光临',
    '访客通行证',
    '北京市朝阳区建国路88号',
    '3号楼2单元501',
    '姓名:张三;电话:13800138000',
    '有效期至2024年12月31日',
    '车牌号：京A12345',
    'http://example.cn/?name=李四',
    '今天天气很好，我们去公园散步吧。',
  ])('reads GBK-encoded %s as GB18030', (text) => {
    expect(decodePayload(toGbk(text), null)).toEqual({ text, charset: 'GB18030' });
  });

  it.each([
    'ありがとう',
    '東京都渋谷区',
    '山田太郎',
    'ｲﾗｽﾄ入りｶﾗｰQRｺｰﾄﾞ',
    'ﾊﾟｽﾜｰﾄﾞ',
    'ﾃｽﾄ',
    'ｶﾞｰﾄﾞﾏﾝ',
    '今度のバージョンでは文章の暗号化ができます。',
    'ＱＲコード',
  ])('reads Shift_JIS-encoded %s as Shift_JIS', (text) => {
    expect(decodePayload(toShiftJis(text), null)).toEqual({ text, charset: 'Shift_JIS' });
  });

  it.each([
    ['4772f6df65', 'Größe'],
    ['636166e9', 'café'],
    ['4dfc6c6c6572', 'Müller'],
  ])(
    'falls back to ISO-8859-1 for %s, which is plausible as neither Chinese nor Japanese',
    (hex, text) => {
      expect(decodePayload(bytesOf(hex), null)).toEqual({ text, charset: 'ISO-8859-1' });
    },
  );
});

describe('decodePayload with an ECI', () => {
  it('honours ECI 20 even where the guess would say GBK', () => {
    expect(decodePayload(bytesOf('c4e3bac3'), '20')).toEqual({
      text: 'ﾄ羲ﾃ',
      charset: 'Shift_JIS',
    });
  });

  it('honours ECI 29 for GB2312 bytes', () => {
    expect(decodePayload(bytesOf('b0a2'), '000029')).toEqual({ text: '阿', charset: 'GB18030' });
  });

  it('reads ECI 3 as true ISO-8859-1, where 0x80 is a control character and not the euro sign', () => {
    expect(decodePayload(bytesOf('80e9'), '3')).toEqual({ text: '\u0080é', charset: 'ISO-8859-1' });
  });

  it('accepts a charset label in place of an assignment number', () => {
    expect(decodePayload(bytesOf('c4e3bac3'), 'GBK')).toEqual({ text: '你好', charset: 'GBK' });
  });

  it('guesses when the bytes are invalid in the declared charset', () => {
    expect(decodePayload(bytesOf('c4e3bac3'), '26')).toEqual({ text: '你好', charset: 'GB18030' });
  });

  it('guesses when the ECI number is not one it knows', () => {
    expect(decodePayload(bytesOf('e4bda0e5a5bd'), '999')).toEqual({
      text: '你好',
      charset: 'UTF-8',
    });
  });
});

describe('charsetForEci', () => {
  it('maps assignment numbers, with or without padding and backslash', () => {
    expect(charsetForEci('26')).toBe('UTF-8');
    expect(charsetForEci('\\000020')).toBe('Shift_JIS');
    expect(charsetForEci('899')).toBe('binary');
  });

  it('refuses labels that no decoder knows', () => {
    expect(charsetForEci('klingon')).toBeNull();
  });
});

describe('decodeAs', () => {
  it('decodes code page 437, which TextDecoder lacks, across its whole upper half', () => {
    const upperHalf = Uint8Array.from({ length: 128 }, (_, offset) => 0x80 + offset);
    const text = decodeAs(upperHalf, 'CP437');

    expect(Array.from(text ?? '')).toHaveLength(128);
    expect(text?.startsWith('Çüé')).toBe(true);
    expect(text?.endsWith('²■\u00a0')).toBe(true);
  });

  it('decodes UTF-32 in both byte orders and refuses a truncated one', () => {
    expect(decodeAs(bytesOf('00004f60'), 'UTF-32BE')).toBe('你');
    expect(decodeAs(bytesOf('604f0000'), 'UTF-32LE')).toBe('你');
    expect(decodeAs(bytesOf('00004f'), 'UTF-32BE')).toBeNull();
  });

  it('refuses non-ASCII bytes for US-ASCII', () => {
    expect(decodeAs(bytesOf('41e9'), 'US-ASCII')).toBeNull();
  });
});
