/**
 * The `kiosk` command-line tool for technicians. `runCli` runs one command line in-process and
 * returns its exit code, so tests and bin/kiosk.js share the same code path.
 */
import { Command, CommanderError } from 'commander';
import { KioskError } from '../common/errors.js';
import { usageExitCode, type CliContext, type CliIo } from './context.js';
import { addDecodeCommand } from './decode-command.js';
import { addIdcardCommand } from './idcard-command.js';
import { addPassCommands } from './pass-commands.js';

export type { CliIo } from './context.js';

/** Runs the tool with `argv` (the arguments after the program name); resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const context: CliContext = { io, exitCode: 0 };
  const program = buildProgram(context);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return context.exitCode;
  } catch (error) {
    return exitCodeFor(error, io);
  }
}

function buildProgram(context: CliContext): Command {
  const program = new Command('kiosk')
    .description('Gate kiosk tools for technicians: pass keys, test passes, QR decoding.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => writeLines((line) => context.io.out(line), text),
      writeErr: (text) => writeLines((line) => context.io.err(line), text),
    })
    .showHelpAfterError('(add --help for usage)');

  addPassCommands(program, context);
  addDecodeCommand(program, context);
  addIdcardCommand(program, context);
  return program;
}

// Commander has already printed its own messages; other errors are printed here without a stack.
function exitCodeFor(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : usageExitCode;

  if (error instanceof KioskError) io.err(`error: ${error.message} (${error.code})`);
  else
    io.err(`error: unexpected failure: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
}

function writeLines(write: (line: string) => void, text: string): void {
  for (const line of text.replace(/\n$/, '').split('\n')) write(line);
}
