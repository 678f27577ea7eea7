import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** How a shell job's command is run. */
export interface ShellOptions {
  /** The folder it runs in: the app's root. */
  cwd: string;
  /** Added to this process's environment, which the command inherits as in Loco. */
  env: Record<string, string>;
  /** Called with each line the command writes, as it writes it. */
  onLine(stream: 'stdout' | 'stderr', line: string): void;
}

/**
 * Runs `command` with the system shell (`/bin/sh -c`, or `cmd.exe` on Windows), as Loco runs a
 * `shell: true` job. Resolves when it exits with status 0 and all its output has been passed on;
 * rejects with the exit status or signal otherwise, or when the shell cannot start.
 */
export function runShell(command: string, options: ShellOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, {
      shell: true,
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const streams = (['stdout', 'stderr'] as const).map(
      (name) =>
        new Promise<void>((done) => {
          const lines = createInterface({ input: child[name], crlfDelay: Infinity });
          lines.on('line', (line) => options.onLine(name, line));
          lines.on('close', done);
        }),
    );
    child.once('error', (err) => reject(new Error(`could not start the shell: ${err.message}`, { cause: err })));
    child.once('close', async (code, signal) => {
      await Promise.all(streams);
      if (code === 0) resolve();
      else reject(new Error(signal ? `killed by ${signal}` : `exit status ${code}`));
    });
  });
}
