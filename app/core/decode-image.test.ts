import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import QRCode from 'qrcode';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareZXingModule as prepareWriter, writeBarcode } from 'zxing-wasm/writer';
import {
  corpusAvailable,
  corpusEnvVar,
  corpusRoot,
  judge,
  loadCorpus,
  type Verdict,
} from '../../bench/decode/corpus.js';
import { hasCode } from '../common/errors.js';
import { decodeImageData, decodeImageFile, type DecodedCode } from './decode-image.js';

const root = corpusRoot();
const haveCorpus = corpusAvailable(root);
const minimumSuccessRate = 0.94;

let scratch = '';

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kiosk-decode-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function decodeOrNull(path: string): Promise<DecodedCode | null> {
  try {
    return await decodeImageFile(path);
  } catch (error) {
    if (hasCode(error, 'decode_failed')) return null;
    throw error;
  }
}

async function writePng(name: string, png: Buffer | Uint8Array): Promise<string> {
  const path = join(scratch, name);
  await writeFile(path, png);

  return path;
}

describe.skipIf(!haveCorpus)(
  `the QR corpus${haveCorpus ? '' : ` (not found at ${root}: set ${corpusEnvVar})`}`,
  () => {
    it(`decodes at least ${minimumSuccessRate * 100}% of images with an agreed answer, and none to a wrong answer`, async () => {
      const images = loadCorpus(root).filter((image) => image.expected !== null);
      const verdicts: Record<Verdict, string[]> = { correct: [], wrong: [], failed: [] };

      for (const image of images) {
        const expected = image.expected;
        if (expected === null) continue;
        verdicts[judge(expected, await decodeOrNull(image.path))].push(
          `${image.folder}/${image.name}`,
        );
      }

      expect(images.length).toBeGreaterThan(200);
      expect(verdicts.wrong).toEqual([]);
      expect(verdicts.correct.length / images.length).toBeGreaterThanOrEqual(minimumSuccessRate);
    }, 120_000);

    it.each([
      ['gbk-nihao', 'GB18030'],
      ['sjis-konnichiwa', 'Shift_JIS'],
      ['utf8-nihao', 'UTF-8'],
    ])(
      'reads the non-UTF-8 sample %s without ECI as %s, with its exact bytes',
      async (name, charset) => {
        const image = loadCorpus(root).find(
          (entry) => entry.folder === 'synthetic-nonutf8-noeci' && entry.name === name,
        );
        if (image?.expected == null)
          throw new Error(`corpus lacks synthetic-nonutf8-noeci/${name}`);

        const decoded = await decodeImageFile(image.path);

        expect(decoded.charset).toBe(charset);
        expect(decoded.text).toBe(image.expected.text);
        expect(decoded.bytesHex).toBe(image.expected.bytesHex);
      },
    );
  },
);

describe('decodeImageFile', () => {
  it('refuses a file that is not an image with decode_failed', async () => {
    const path = await writePng(
      'not-an-image.png',
      new TextEncoder().encode('plain text, not pixels'),
    );

    await expect(decodeImageFile(path)).rejects.toMatchObject({
      code: 'decode_failed',
      message: /not a readable image/,
    });
  });

  it('reports decode_failed naming the file when the image holds no code', async () => {
    const blank = await sharp({
      create: { width: 200, height: 200, channels: 3, background: '#ffffff' },
    })
      .png()
      .toBuffer();
    const path = await writePng('blank.png', blank);

    await expect(decodeImageFile(path)).rejects.toMatchObject({
      code: 'decode_failed',
      message: /blank\.png: no QR code/,
    });
  });

  it('reads a light-on-dark code and says it was inverted', async () => {
    const dark = await sharp(await QRCode.toBuffer('PASS:inverted', { margin: 4, scale: 6 }))
      .negate({ alpha: false })
      .png()
      .toBuffer();

    const decoded = await decodeImageFile(await writePng('inverted.png', dark));

    expect(decoded).toMatchObject({ text: 'PASS:inverted', inverted: true, format: 'QRCode' });
  });

  it('honours an ECI header over the charset guess', async () => {
    const writerWasm = await readFile(
      createRequire(import.meta.url).resolve('zxing-wasm/writer/zxing_writer.wasm'),
    );
    prepareWriter({
      overrides: {
        wasmBinary: writerWasm.buffer.slice(
          writerWasm.byteOffset,
          writerWasm.byteOffset + writerWasm.byteLength,
        ),
      },
    });
    const gbkNihao = Uint8Array.of(0xc4, 0xe3, 0xba, 0xc3);
    const written = await writeBarcode(gbkNihao, { format: 'QRCode', options: 'eci=20', scale: 6 });
    if (written.image === null) throw new Error(`writer failed: ${written.error}`);

    const path = await writePng('eci-20.png', new Uint8Array(await written.image.arrayBuffer()));
    const decoded = await decodeImageFile(path);

    expect(decoded).toMatchObject({ text: 'ﾄ羲ﾃ', charset: 'Shift_JIS', bytesHex: 'c4e3bac3' });
  });

  it('returns the largest code when the image holds more than one', async () => {
    const large = await QRCode.toBuffer('held up to the camera', { margin: 2, scale: 8 });
    const small = await QRCode.toBuffer('poster behind', { margin: 2, scale: 3 });
    const scene = await sharp({
      create: { width: 600, height: 400, channels: 3, background: '#ffffff' },
    })
      .composite([
        { input: small, left: 20, top: 20 },
        { input: large, left: 300, top: 60 },
      ])
      .png()
      .toBuffer();

    const decoded = await decodeImageFile(await writePng('two-codes.png', scene));

    expect(decoded.text).toBe('held up to the camera');
  });
});

describe('decodeImageData', () => {
  it('refuses a pixel buffer whose size does not match width and height', async () => {
    await expect(decodeImageData(new Uint8ClampedArray(10), 2, 2)).rejects.toSatisfy((error) =>
      hasCode(error, 'decode_failed'),
    );
  });
});
