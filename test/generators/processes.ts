import { spawn } from 'node:child_process';
import * as assert from 'uvu/assert';

/** How a command ended, with its output (stdout and stderr, interleaved) for failure messages. */
export interface Result {
  code: number | null;
  output: string;
}

/**
 * Runs a command to its end, or kills it after `timeoutMs` with everything it started (it runs in
 * a process group of its own, so that npm's children do not outlive it).
 */
export function exec(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs / 1000} s]`;
      process.kill(-child.pid!, 'SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Fails with the command's last output unless it exited 0. */
export function succeeded(result: Result, what: string): void {
  assert.is(result.code, 0, `${what} failed (exit ${result.code}):\n${result.output.slice(-4000)}`);
}

/**
 * Starts a long-running command in its own process group; `waitFor` resolves with the first match
 * of a pattern in its output; `stop` sends SIGTERM to that group only, as a terminal's Ctrl-C or
 * a process manager does (npx itself does not pass signals on to the program it runs).
 */
export function launch(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => output,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM');
    },
    async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = output.match(pattern);
        if (match) return match;
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`${[command, ...args].join(' ')}: no ${pattern} in its output:\n${output.slice(-4000)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}
