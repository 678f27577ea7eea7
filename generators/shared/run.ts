import { spawn } from 'node:child_process';

/** What a finished command left behind. */
export interface RunResult {
  /** The exit code; 1 when the command was killed by a signal or could not start. */
  code: number;
  /** stdout and stderr interleaved, when captured. */
  output: string;
}

/** Options of `run`. */
export interface RunOptions {
  cwd: string;
  /** Show the command's output as it runs (`inherit`) or keep it for error messages (`capture`). */
  stdio: 'inherit' | 'capture';
  env?: NodeJS.ProcessEnv;
}

/** Runs a command without a shell and resolves with its exit code; never rejects. */
export function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: options.stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      // npm and git are .cmd shims on Windows, which only a shell can start.
      shell: process.platform === 'win32',
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolve({ code: 1, output: `${output}${error.message}\n` }));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}
