/**
 * The QR photo corpus (shared/corpus/qr beside the repository, see its README): which images it
 * holds, what each must decode to, and how a decoder's answer is judged. Shared by the decode
 * benchmark and the decoder's tests so both count the same way.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The environment variable that points at the corpus when it is not beside the repository. */
export const corpusEnvVar = 'KIOSK_QR_CORPUS';

/** What an image must decode to: text (from NAME.txt), exact bytes (from NAME.bin), or both. */
export interface Expected {
  text: string | null;
  bytesHex: string | null;
}

/** One corpus image; `expected` is null where the corpus has no agreed answer. */
export interface CorpusImage {
  folder: string;
  name: string;
  path: string;
  expected: Expected | null;
}

/** How a decoder did on one image. */
export type Verdict = 'correct' | 'wrong' | 'failed';

const imageExtension = /\.(png|jpe?g|webp|gif|tiff?)$/i;
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The corpus folder: $KIOSK_QR_CORPUS, else shared/corpus/qr beside the repository. */
export function corpusRoot(): string {
  return process.env[corpusEnvVar] ?? resolve(repoRoot, '../shared/corpus/qr');
}

/** True when `root` looks like the corpus (it has its README). */
export function corpusAvailable(root: string = corpusRoot()): boolean {
  return existsSync(join(root, 'README.md'));
}

/** Every image of the corpus, sorted by folder and name, with its expected answer. */
export function loadCorpus(root: string = corpusRoot()): CorpusImage[] {
  const folders = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();

  return folders.flatMap((folder) => loadFolder(root, folder));
}

function loadFolder(root: string, folder: string): CorpusImage[] {
  const directory = join(root, folder);
  const images = readdirSync(directory)
    .filter((file) => imageExtension.test(file))
    .sort();

  return images.map((file) => {
    const name = file.replace(imageExtension, '');
    return {
      folder,
      name,
      path: join(directory, file),
      expected: readExpected(join(directory, name)),
    };
  });
}

function readExpected(base: string): Expected | null {
  const text = existsSync(`${base}.txt`) ? readFileSync(`${base}.txt`, 'utf8') : null;
  const bytesHex = existsSync(`${base}.bin`) ? readFileSync(`${base}.bin`).toString('hex') : null;
  if (text === null && bytesHex === null) return null;

  return { text, bytesHex };
}

/**
 * Judges a decoder's answer. Where the corpus gives exact bytes they must match, and where it
 * gives text that must match too: the non-UTF-8 samples give both, so a decoder that reads the
 * right bytes but shows mojibake is wrong, not right.
 */
export function judge(
  expected: Expected,
  decoded: { text: string; bytesHex: string | null } | null,
): Verdict {
  if (decoded === null) return 'failed';

  const bytesMatch = expected.bytesHex === null || expected.bytesHex === decoded.bytesHex;
  const textMatches = expected.text === null || expected.text === decoded.text;
  return bytesMatch && textMatches ? 'correct' : 'wrong';
}
