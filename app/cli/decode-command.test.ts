import { beforeEach, describe, expect, it, vi } from 'vitest';
import { KioskError } from '../common/errors.js';
import { runCli } from './index.js';

// The decoder is tested with its own module; here it stands in so only the command's handling of
// results and failures is under test.
const decodeImageFile = vi.hoisted(() =>
  vi.fn<(path: string) => Promise<{ text: string; bytesHex: string; charset: string }>>(),
);
vi.mock('../core/decode-image.js', () => ({ decodeImageFile }));

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

beforeEach(() => {
  decodeImageFile.mockReset();
  decodeImageFile.mockImplementation((path) => {
    if (path.includes('blank')) {
      return Promise.reject(new KioskError('decode_failed', 'no QR code found'));
    }

    const text = `text of ${path}`;
    return Promise.resolve({ text, bytesHex: Buffer.from(text).toString('hex'), charset: 'UTF-8' });
  });
});

describe('kiosk decode', () => {
  it('prints one JSON line per image and exits 0 when all decode', async () => {
    const result = await run('decode', 'a.png', 'b.jpg');

    expect(result.code).toBe(0);
    expect(result.out.map((line) => JSON.parse(line) as unknown)).toEqual([
      {
        file: 'a.png',
        text: 'text of a.png',
        bytesHex: Buffer.from('text of a.png').toString('hex'),
        charset: 'UTF-8',
      },
      {
        file: 'b.jpg',
        text: 'text of b.jpg',
        bytesHex: Buffer.from('text of b.jpg').toString('hex'),
        charset: 'UTF-8',
      },
    ]);
    expect(decodeImageFile.mock.calls.map(([path]) => path)).toEqual(['a.png', 'b.jpg']);
  });

  it('reports an image it cannot decode as an error line, goes on, and exits 1', async () => {
    const result = await run('decode', 'blank.png', 'c.png');

    expect(result.code).toBe(1);
    expect(JSON.parse(result.out[0])).toEqual({ file: 'blank.png', error: 'no QR code found' });
    expect(JSON.parse(result.out[1])).toMatchObject({ file: 'c.png', text: 'text of c.png' });
  });

  it('asks for at least one image', async () => {
    const result = await run('decode');

    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toMatch(/images/);
    expect(decodeImageFile).not.toHaveBeenCalled();
  });
});
