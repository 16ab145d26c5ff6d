/**
 * `kiosk pass keygen | issue | verify`: a technician's tools for a site's pass keys, for printing
 * a test pass and for checking why a kiosk refuses one.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command } from 'commander';
import type { JWK } from 'jose';
import QRCode from 'qrcode';
import { hasCode, KioskError } from '../common/errors.js';
import { generateSiteKeys, issuePass, verifyPass, type PassClaims } from '../core/passes.js';
import {
  collect,
  isoTime,
  isoTimeOrNow,
  nonNegativeInteger,
  positiveHours,
  positiveInteger,
  readJsonFile,
} from './arguments.js';
import { usageError, type CliContext } from './context.js';

interface KeygenOptions {
  out: string;
  force?: boolean;
}

interface IssueOptions {
  key: string;
  site: string;
  gate: string[];
  from?: number;
  until?: number;
  hours?: number;
  entries: number;
  unit?: string;
  name?: string;
  id?: string;
  qr?: string;
}

interface VerifyOptions {
  file?: string;
  keys: string[];
  site: string;
  gate: string;
  at?: number;
  skew: number;
  uses: number;
}

/** Adds the `pass` command and its subcommands to the program. */
export function addPassCommands(program: Command, context: CliContext): void {
  const pass = program
    .command('pass')
    .description('site signing keys and visitor passes (signed QR codes)');

  addKeygen(pass, context);
  addIssue(pass, context);
  addVerify(pass, context);
}

function addKeygen(pass: Command, context: CliContext): void {
  pass
    .command('keygen')
    .description('create a site signing key pair (Ed25519)')
    .requiredOption(
      '--out <dir>',
      'folder to write site-private.jwk.json and site-public.jwk.json into',
    )
    .option('--force', 'replace an existing key pair (passes signed with the old key stop working)')
    .addHelpText(
      'after',
      helpLines(
        'The public key is printed on stdout: add it to passes.publicKeys in each kiosk configuration.',
        'Keep site-private.jwk.json secret: it can sign passes for the whole site.',
      ),
    )
    .action(async (options: KeygenOptions, command: Command) => {
      const privatePath = join(options.out, 'site-private.jwk.json');
      if (existsSync(privatePath) && !options.force) {
        usageError(command, `${privatePath} already exists; use --force to replace it`);
      }

      const keys = await generateSiteKeys();
      writeKeyFiles(options.out, keys.privateJwk, keys.publicJwk);
      context.io.err(
        `wrote ${privatePath} (secret, mode 0600) and ${join(options.out, 'site-public.jwk.json')}`,
      );
      context.io.err('add this public key to passes.publicKeys in the kiosk configuration:');
      context.io.out(JSON.stringify(keys.publicJwk));
    });
}

function writeKeyFiles(dir: string, privateJwk: JWK, publicJwk: JWK): void {
  const privatePath = join(dir, 'site-private.jwk.json');
  mkdirSync(dir, { recursive: true });

  // The mode only applies when the file is created, so it is set again for a replaced key.
  writeFileSync(privatePath, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  chmodSync(privatePath, 0o600);
  writeFileSync(join(dir, 'site-public.jwk.json'), `${JSON.stringify(publicJwk, null, 2)}\n`);
}

function addIssue(pass: Command, context: CliContext): void {
  pass
    .command('issue')
    .description('sign a pass and print its text (the QR code payload)')
    .requiredOption('--key <file>', 'the site private key (site-private.jwk.json)')
    .requiredOption('--site <id>', 'site id, as in the kiosk configuration')
    .requiredOption('--gate <id>', 'a gate the pass opens; repeat for several gates', collect, [])
    .option('--from <time>', 'valid from: ISO date and time, or now (default: now)', isoTimeOrNow)
    .option('--until <time>', 'valid until: ISO date and time (or give --hours)', isoTime)
    .option(
      '--hours <n>',
      'valid for this many hours after --from (or give --until)',
      positiveHours,
    )
    .option('--entries <n>', 'number of entries the pass allows', positiveInteger, 1)
    .option('--unit <unit>', 'the host unit the visitor goes to, e.g. 3-1102')
    .option('--name <name>', "the visitor's name (stored masked: only the first character)")
    .option('--id <passId>', 'pass id (default: random)')
    .option('--qr <file.png>', 'also write the pass as a PNG QR code')
    .addHelpText(
      'after',
      helpLines(
        "Times without an offset are this computer's local time.",
        'Example:',
        '  kiosk pass issue --key keys/site-private.jwk.json --site north-park --gate main-gate \\',
        '    --hours 4 --unit 3-1102 --qr pass.png',
      ),
    )
    .action(async (options: IssueOptions, command: Command) => {
      const claims = issueClaims(options, command);
      const privateJwk = readPrivateKey(options.key, command);

      const text = await issuePass(privateJwk, claims).catch((error: unknown) => {
        if (hasCode(error, 'bad_payload')) usageError(command, error.message);
        throw error;
      });
      context.io.out(text);
      // Issuing a pass for the past is allowed (tests need them) but is rarely what was meant.
      if (claims.expires * 1000 <= Date.now())
        context.io.err('warning: this pass has already expired');

      if (options.qr) await writeQr(options.qr, text, context);
    });
}

function issueClaims(options: IssueOptions, command: Command): PassClaims {
  if ((options.until === undefined) === (options.hours === undefined)) {
    usageError(command, 'give exactly one of --until and --hours');
  }
  if (options.qr !== undefined && !options.qr.toLowerCase().endsWith('.png')) {
    usageError(command, '--qr writes a PNG file: its name must end in .png');
  }

  const from = options.from ?? Date.now();
  const until = options.until ?? from + (options.hours ?? 0) * 3600_000;
  if (until <= from) {
    usageError(command, 'the pass must end after it starts (--until is not after --from)');
  }

  return {
    passId: options.id ?? randomBytes(12).toString('base64url'),
    site: options.site,
    gates: options.gate,
    notBefore: Math.floor(from / 1000),
    expires: Math.floor(until / 1000),
    entries: options.entries,
    hostUnit: options.unit ?? '',
    maskedName: options.name ?? '',
  };
}

function readPrivateKey(path: string, command: Command): JWK {
  const file = readJsonFile(path);
  if (!file.ok) usageError(command, `--key: ${file.problem}`);

  const jwk = file.value as JWK;
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.d !== 'string') {
    usageError(
      command,
      `--key: ${path} is not a private key (use site-private.jwk.json from pass keygen)`,
    );
  }
  return jwk;
}

async function writeQr(path: string, text: string, context: CliContext): Promise<void> {
  try {
    await QRCode.toFile(path, text, {
      type: 'png',
      errorCorrectionLevel: 'M',
      margin: 4,
      scale: 6,
    });
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new KioskError('not_found', `cannot write the QR code to ${path} (${reason})`, { cause });
  }
  context.io.err(`wrote QR code to ${path}`);
}

function addVerify(pass: Command, context: CliContext): void {
  pass
    .command('verify')
    .description(
      'check a pass as a kiosk would and print the verdict as JSON (exit 0 valid, 1 refused)',
    )
    .argument('[text]', 'the pass text (or give --file)')
    .option('--file <file>', 'read the pass text from a file')
    .requiredOption(
      '--keys <files...>',
      'public keys: JWK files, JWK arrays, JWK sets or a kiosk configuration',
    )
    .requiredOption('--site <id>', 'the site the kiosk belongs to')
    .requiredOption('--gate <id>', 'the gate the kiosk guards')
    .option('--at <time>', 'check as of this ISO date and time instead of now', isoTime)
    .option('--skew <seconds>', 'tolerated clock difference', nonNegativeInteger, 60)
    .option('--uses <n>', 'entries already used on this pass', nonNegativeInteger, 0)
    .addHelpText(
      'after',
      helpLines(
        'Give the text before --keys, which takes every file after it.',
        'Example:',
        '  kiosk pass verify --file pass.txt --keys site-public.jwk.json --site north-park \\',
        '    --gate main-gate',
      ),
    )
    .action(async (text: string | undefined, options: VerifyOptions, command: Command) => {
      const passText = readPassText(text, options.file, command);
      const publicKeys = options.keys.flatMap((path) => readPublicKeys(path, command));

      const verdict = await verifyPass(passText, {
        publicKeys,
        site: options.site,
        gate: options.gate,
        now: options.at ?? Date.now(),
        clockSkewSeconds: options.skew,
        usesOf: () => options.uses,
      });
      context.io.out(JSON.stringify(verdict));
      context.exitCode = verdict.ok ? 0 : 1;
    });
}

function readPassText(
  text: string | undefined,
  file: string | undefined,
  command: Command,
): string {
  if ((text === undefined) === (file === undefined)) {
    usageError(command, 'give the pass text or --file, not both or neither');
  }
  if (text !== undefined) return text;

  try {
    return readFileSync(file ?? '', 'utf8');
  } catch (cause) {
    return usageError(
      command,
      `--file: cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`,
    );
  }
}

/** Accepts the shapes a technician has at hand: one JWK, an array, a JWK set or a kiosk config. */
function readPublicKeys(path: string, command: Command): object[] {
  const file = readJsonFile(path);
  if (!file.ok) usageError(command, `--keys: ${file.problem}`);

  const keys = keyList(file.value);
  if (keys.length === 0) usageError(command, `--keys: ${path} holds no keys`);
  return keys;
}

function keyList(value: unknown): object[] {
  if (Array.isArray(value)) {
    return value.filter((item): item is object => typeof item === 'object' && item !== null);
  }
  if (typeof value !== 'object' || value === null) return [];

  const record = value as { keys?: unknown; passes?: { publicKeys?: unknown }; kty?: unknown };
  if (Array.isArray(record.keys)) return keyList(record.keys);
  if (Array.isArray(record.passes?.publicKeys)) return keyList(record.passes.publicKeys);
  return typeof record.kty === 'string' ? [record] : [];
}

function helpLines(...lines: string[]): string {
  return ['', ...lines].join('\n');
}
