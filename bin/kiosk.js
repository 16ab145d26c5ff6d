#!/usr/bin/env node
// The `kiosk` technician tool. It runs the compiled CLI from dist/, so a kiosk needs no TypeScript
// tooling installed; from a source checkout, build first.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/app/cli/index.js', import.meta.url);

if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('kiosk: the compiled tool is missing: run `npm run build` first\n');
  process.exit(1);
}

// A technician reads the tool's own messages; the core's JSON log lines would bury them. Set
// KIOSK_LOG_LEVEL to see the logs.
process.env.KIOSK_LOG_LEVEL ??= 'silent';

const { runCli } = await import(entry.href);
const io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
process.exitCode = await runCli(process.argv.slice(2), io);
