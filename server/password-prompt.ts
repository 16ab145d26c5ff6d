/**
 * Reads a new password on a terminal the way people expect: a prompt naming the account, no
 * echo of what is typed, and a second entry that must match, so a typo does not become the
 * password nobody knows.
 */
import { createInterface, type Interface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { KioskError } from '../app/common/errors.js';

/** Where the prompt reads from and writes to; tests pass plain streams. */
export interface PromptStreams {
  input: NodeJS.ReadableStream;
  /** The terminal the prompts go to (stderr, so stdout stays for results). */
  output: NodeJS.WritableStream;
}

/** A readline interface that echoes nothing, and the terminal the prompts go to. */
interface HiddenLines {
  lines: Interface;
  output: NodeJS.WritableStream;
}

/** Asks twice for the password of `name` without echoing it; throws `bad_payload` on a mismatch. */
export async function promptNewPassword(name: string, streams: PromptStreams): Promise<string> {
  // readline echoes each keystroke through its output; this output swallows them. Terminal mode
  // still puts a real TTY in raw mode, so the terminal does not echo either.
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const lines = createInterface({ input: streams.input, output: muted, terminal: true });
  const hidden: HiddenLines = { lines, output: streams.output };

  try {
    const first = await askHidden(hidden, `Password for ${name}: `);
    const second = await askHidden(hidden, `Password for ${name} again: `);
    if (first !== second) throw new KioskError('bad_payload', 'the two passwords differ');

    return first;
  } finally {
    lines.close();
  }
}

/** One line read after `prompt`, with everything typed hidden. */
async function askHidden(hidden: HiddenLines, prompt: string): Promise<string> {
  // The prompt bypasses readline, which stays muted throughout: nothing typed can echo.
  hidden.output.write(prompt);
  const answer = new Promise<string>((resolve, reject) => {
    hidden.lines.once('SIGINT', () => reject(new KioskError('bad_payload', 'cancelled')));
    hidden.lines.once('close', () => reject(new KioskError('bad_payload', 'no password entered')));
    hidden.lines.question('').then(resolve, reject);
  });

  try {
    return await answer;
  } finally {
    hidden.output.write('\n');
  }
}
