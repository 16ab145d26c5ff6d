import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { promptNewPassword } from './password-prompt.js';

/** A fake terminal on which the test types each answer once its prompt has been shown. */
function terminal(answers: string[]) {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.setEncoding('utf8').on('data', (chunk: string) => {
    shown += chunk;
    const answer = chunk.endsWith(': ') ? answers.shift() : undefined;
    // A person types after seeing the prompt, never within the same tick.
    if (answer !== undefined) setImmediate(() => input.write(`${answer}\r`));
  });
  return { streams: { input, output }, shown: () => shown };
}

describe('new password prompt', () => {
  it('names the account, asks twice and never echoes the password', async () => {
    const screen = terminal(['s3cret words 1', 's3cret words 1']);

    const password = await promptNewPassword('chief', screen.streams);

    expect(password).toBe('s3cret words 1');
    expect(screen.shown()).toContain('Password for chief: ');
    expect(screen.shown()).toContain('Password for chief again: ');
    expect(screen.shown()).not.toContain('s3cret');
  });

  it('refuses two entries that differ', async () => {
    const screen = terminal(['first password', 'second password']);

    await expect(promptNewPassword('chief', screen.streams)).rejects.toThrow(
      'the two passwords differ',
    );
  });

  it('gives up when the input ends before a password is entered', async () => {
    const screen = terminal([]);
    screen.streams.input.end();

    await expect(promptNewPassword('chief', screen.streams)).rejects.toThrow('no password entered');
  });
});
