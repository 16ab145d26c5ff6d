/**
 * Runs one of the project's TypeScript command-line entry points as a real child process (through
 * tsx), for tests of start-up, printed output, exit codes and signals.
 */
import { spawn, type ChildProcess } from 'node:child_process';

// Absolute, because the child runs in a scratch folder where `tsx` would not resolve.
const tsxLoader = import.meta.resolve('tsx');

/** A running command: its output so far and its exit code once it ends. */
export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `source` with `args` in `cwd`; `stdin`, when given, is written and closed. */
export function startCliProcess(options: {
  source: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  stdin?: string;
}): CliProcess {
  const child = spawn(process.execPath, ['--import', tsxLoader, options.source, ...options.args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.stdin ?? '');
  const exited = new Promise<number | null>((resolveExit) =>
    child.once('exit', (code) => resolveExit(code)),
  );

  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/**
 * Resolves with the value of the `NAME=value` line the process prints once ready, or fails with
 * its stderr if it exits first or takes longer than `timeoutMs`.
 */
export function readyLine(run: CliProcess, name: string, timeoutMs = 15_000): Promise<string> {
  const pattern = new RegExp(`^${name}=(\\S+)$`, 'm');

  return new Promise((resolveValue, rejectValue) => {
    const timer = setTimeout(
      () => rejectValue(new Error(`no ${name} line within the timeout:\n${run.stderr()}`)),
      timeoutMs,
    );
    const check = () => {
      const value = pattern.exec(run.stdout())?.[1];
      if (!value) return;

      clearTimeout(timer);
      resolveValue(value);
    };
    run.child.stdout?.on('data', check);
    void run.exited.then((code) =>
      rejectValue(new Error(`exited (${code}) before printing ${name}:\n${run.stderr()}`)),
    );
  });
}
