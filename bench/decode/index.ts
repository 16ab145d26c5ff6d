/**
 * `npm run bench -- decode`: our zxing-wasm pipeline against @zxing/library on the QR photo
 * corpus, both fed the same RGBA pixels. Prints a table per folder and per engine, then one JSON
 * line with the figures.
 */
import {
  BarcodeFormat,
  BinaryBitmap,
  DecodeHintType,
  Exception,
  HybridBinarizer,
  InvertedLuminanceSource,
  type LuminanceSource,
  MultiFormatReader,
  RGBLuminanceSource,
  ResultMetadataType,
  type Result,
} from '@zxing/library';
import { hasCode } from '../../app/common/errors.js';
import { bytesToHex } from '../../app/common/qr-result.js';
import { decodeImageData, readPixels } from '../../app/core/decode-image.js';
import { formatTable, percentile, round } from '../support/stats.js';
import {
  corpusAvailable,
  corpusEnvVar,
  corpusRoot,
  judge,
  loadCorpus,
  type CorpusImage,
  type Verdict,
} from './corpus.js';

interface Answer {
  text: string;
  bytesHex: string | null;
}

type Engine = (rgba: Uint8ClampedArray, width: number, height: number) => Promise<Answer | null>;

interface Outcome {
  folder: string;
  name: string;
  verdict: Verdict | 'no answer';
  decoded: boolean;
  ms: number;
}

const engines: Record<string, Engine> = {
  'zxing-wasm': decodeWithPipeline,
  '@zxing/library': decodeWithZxingJs,
};

async function decodeWithPipeline(
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
): Promise<Answer | null> {
  try {
    return await decodeImageData(rgba, width, height);
  } catch (error) {
    if (hasCode(error, 'decode_failed')) return null;
    throw error;
  }
}

const zxingJsReader = new MultiFormatReader();
zxingJsReader.setHints(
  new Map<DecodeHintType, unknown>([
    [DecodeHintType.POSSIBLE_FORMATS, [BarcodeFormat.QR_CODE]],
    [DecodeHintType.TRY_HARDER, true],
  ]),
);

/** @zxing/library with TRY_HARDER, retrying the inverted image as the kiosk pipeline does. */
function decodeWithZxingJs(
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
): Promise<Answer | null> {
  const source = new RGBLuminanceSource(luminance(rgba), width, height);
  for (const candidate of [source, new InvertedLuminanceSource(source)] as LuminanceSource[]) {
    const result = tryZxingJs(candidate);
    if (result !== null)
      return Promise.resolve({ text: result.getText(), bytesHex: byteSegmentsHex(result) });
  }

  return Promise.resolve(null);
}

function tryZxingJs(source: LuminanceSource): Result | null {
  try {
    return zxingJsReader.decodeWithState(new BinaryBitmap(new HybridBinarizer(source)));
  } catch (error) {
    // The library reports "no code", checksum and format failures all as its own exceptions.
    if (error instanceof Exception) return null;
    throw error;
  }
}

/** The byte-mode payload bytes, the only raw bytes @zxing/library exposes. */
function byteSegmentsHex(result: Result): string | null {
  const segments = result.getResultMetadata()?.get(ResultMetadataType.BYTE_SEGMENTS) as
    Uint8Array[] | undefined;
  if (!segments || segments.length === 0) return null;

  return segments.map((segment) => bytesToHex(Uint8Array.from(segment))).join('');
}

/** Same luminance formula as zxing-cpp uses, so both engines see the same grey image. */
function luminance(rgba: Uint8ClampedArray): Uint8ClampedArray {
  const grey = new Uint8ClampedArray(rgba.length / 4);
  for (let pixel = 0; pixel < grey.length; pixel += 1) {
    const offset = pixel * 4;
    grey[pixel] =
      (306 * rgba[offset] + 601 * rgba[offset + 1] + 117 * rgba[offset + 2] + 512) >> 10;
  }

  return grey;
}

async function runEngine(
  engine: Engine,
  image: CorpusImage,
  pixels: Awaited<ReturnType<typeof readPixels>>,
): Promise<Outcome> {
  const started = performance.now();
  const answer = await engine(pixels.data, pixels.width, pixels.height);
  const ms = performance.now() - started;

  const verdict = image.expected === null ? 'no answer' : judge(image.expected, answer);
  return { folder: image.folder, name: image.name, verdict, decoded: answer !== null, ms };
}

function summarise(outcomes: readonly Outcome[]) {
  const judged = outcomes.filter((outcome) => outcome.verdict !== 'no answer');
  const count = (verdict: Verdict): number =>
    judged.filter((outcome) => outcome.verdict === verdict).length;
  const times = outcomes.map((outcome) => outcome.ms).sort((a, b) => a - b);

  return {
    withAnswer: judged.length,
    correct: count('correct'),
    wrong: count('wrong'),
    failed: count('failed'),
    successRate: judged.length === 0 ? 0 : round(count('correct') / judged.length, 4),
    noAnswerDecoded: outcomes.filter(
      (outcome) => outcome.verdict === 'no answer' && outcome.decoded,
    ).length,
    medianMs: round(percentile(times, 0.5), 2),
    p95Ms: round(percentile(times, 0.95), 2),
    totalMs: round(times.reduce((sum, ms) => sum + ms, 0)),
    wrongImages: judged
      .filter((outcome) => outcome.verdict === 'wrong')
      .map((outcome) => `${outcome.folder}/${outcome.name}`),
  };
}

function folderTable(results: Record<string, Outcome[]>): string[][] {
  const names = Object.keys(results);
  const folders = [...new Set(Object.values(results)[0].map((outcome) => outcome.folder))];
  const header = [
    'folder',
    'images',
    'with answer',
    ...names.map((name) => `${name} ok/wrong/failed`),
  ];

  const rows = folders.map((folder) => {
    const perEngine = names.map((name) =>
      summarise(results[name].filter((outcome) => outcome.folder === folder)),
    );
    const cells = perEngine.map(
      (summary) => `${summary.correct}/${summary.wrong}/${summary.failed}`,
    );
    const images = results[names[0]].filter((outcome) => outcome.folder === folder).length;
    return [folder, String(images), String(perEngine[0].withAnswer), ...cells];
  });

  return [header, ...rows];
}

function engineTable(summaries: Record<string, ReturnType<typeof summarise>>): string[][] {
  const header = [
    'engine',
    'with answer',
    'correct',
    'wrong',
    'failed',
    'success',
    'median ms',
    'p95 ms',
    'no-answer decoded',
  ];
  const rows = Object.entries(summaries).map(([name, summary]) => [
    name,
    String(summary.withAnswer),
    String(summary.correct),
    String(summary.wrong),
    String(summary.failed),
    `${(summary.successRate * 100).toFixed(1)}%`,
    summary.medianMs.toFixed(2),
    summary.p95Ms.toFixed(2),
    String(summary.noAnswerDecoded),
  ]);

  return [header, ...rows];
}

async function main(): Promise<void> {
  const root = corpusRoot();
  if (!corpusAvailable(root)) {
    console.error(`QR corpus not found at ${root}: set ${corpusEnvVar} to its folder.`);
    process.exit(2);
  }

  const images = loadCorpus(root);
  const results: Record<string, Outcome[]> = Object.fromEntries(
    Object.keys(engines).map((name) => [name, []]),
  );
  // Instantiating the WebAssembly module is a one-off start-up cost, not a per-image one.
  const first = await readPixels(images[0].path);
  await decodeWithPipeline(first.data, first.width, first.height);

  for (const image of images) {
    const pixels = await readPixels(image.path);
    for (const [name, engine] of Object.entries(engines))
      results[name].push(await runEngine(engine, image, pixels));
  }

  const summaries = Object.fromEntries(
    Object.entries(results).map(([name, outcomes]) => [name, summarise(outcomes)]),
  );
  console.log(`QR corpus ${root}: ${images.length} images\n`);
  console.log(formatTable(folderTable(results)));
  console.log('');
  console.log(formatTable(engineTable(summaries)));
  for (const [name, summary] of Object.entries(summaries)) {
    if (summary.wrong > 0) console.log(`\n${name} wrong: ${summary.wrongImages.join(', ')}`);
  }

  console.log(JSON.stringify({ benchmark: 'decode', images: images.length, engines: summaries }));
}

await main();
