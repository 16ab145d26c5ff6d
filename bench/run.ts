/**
 * `npm run bench -- NAME` runs bench/NAME/index.ts. Each benchmark prints a readable table and,
 * as its last line, one JSON object of its figures for machines to compare runs.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const name = process.argv[2];
const available = readdirSync(here, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(here, entry.name, 'index.ts')))
  .map((entry) => entry.name);

if (!name || !available.includes(name)) {
  console.error(
    `usage: npm run bench -- NAME   (NAME is one of: ${available.join(', ') || 'none yet'})`,
  );
  process.exit(2);
}

// Benchmarks print figures, not the kiosk's info log; warnings still show.
process.env.KIOSK_LOG_LEVEL ??= 'warn';
await import(pathToFileURL(join(here, name, 'index.ts')).href);
