/**
 * `kiosk idcard parse HEX`: parses what an ID card reader answered to a read, as captured on the
 * wire, so a technician can see why a card is refused. Personal data stays masked unless asked.
 */
import type { Command } from 'commander';
import { KioskError } from '../common/errors.js';
import { maskRead, type CardClock, type IdCardRead } from '../../native/idcard/id-record.js';
import { parseReadFrame } from '../../native/idcard/read-response.js';
import { samBytesFromHex, samPreamble } from '../../native/idcard/sam-protocol.js';
import { parseTextBlock, textBlockLength } from '../../native/idcard/text-block.js';
import { isoTime } from './arguments.js';
import type { CliContext } from './context.js';

interface ParseOptions {
  unmasked?: boolean;
  at?: number;
}

/** Adds the `idcard` command and its subcommands to the program. */
export function addIdcardCommand(program: Command, context: CliContext): void {
  const idcard = program.command('idcard').description('second-generation ID card reader tools');

  idcard
    .command('parse')
    .description('parse a read answer (30 01 or 30 10 frame) or a bare 256-byte text block')
    .argument('<hex...>', 'the bytes in hex; spaces allowed, so a pasted dump may span arguments')
    .option('--unmasked', 'show ID numbers, names and addresses in full (personal data)')
    .option('--at <time>', 'judge the validity dates at this time instead of now', isoTime)
    .addHelpText('after', '\nPrints {"record","photoLength","fingerprintLength"} as one JSON line.')
    .action((hex: string[], options: ParseOptions) => {
      const clock: CardClock = options.at === undefined ? {} : { now: () => options.at! };
      const read = parseCapturedBytes(samBytesFromHex(hex.join(' ')), clock);
      context.io.out(JSON.stringify(options.unmasked ? read : maskRead(read)));
    });
}

/** A whole frame when it starts with the preamble, else a text block on its own. */
function parseCapturedBytes(bytes: Uint8Array, clock: CardClock): IdCardRead {
  const isFrame = samPreamble.every((byte, index) => bytes[index] === byte);
  if (isFrame) return parseReadFrame(bytes, clock);

  if (bytes.length !== textBlockLength) {
    throw new KioskError(
      'bad_frame',
      `expected a frame starting AA AA AA 96 69 or a ${textBlockLength}-byte text block, got ${bytes.length} bytes`,
    );
  }

  return { record: parseTextBlock(bytes, clock), photoLength: 0, fingerprintLength: 0 };
}
