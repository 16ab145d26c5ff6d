/** What every command of the `kiosk` tool writes to and reports back through. */
import type { Command } from 'commander';

/** Where the tool writes: `out` for results a script may read, `err` for messages to people. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** Shared by the commands of one run: the output and the exit code the run ends with. */
export interface CliContext {
  io: CliIo;
  exitCode: number;
}

/** Exit code for bad arguments, apart from 1 so a script can tell "refused" from "misused". */
export const usageExitCode = 2;

/** Stops the command with a message about how it was called; the run exits with code 2. */
export function usageError(command: Command, message: string): never {
  return command.error(`error: ${message}`, { exitCode: usageExitCode, code: 'kiosk.usage' });
}
