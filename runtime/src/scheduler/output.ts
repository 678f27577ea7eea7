/**
 * What `output: stdout` prints, as Loco passes a job's output through: lines on this process's
 * stdout (and its stderr for a command's stderr and for failures), each starting with
 * `[job name]`. These are output, not log lines: they keep their form whatever `logger.format` is.
 */
import type { JobAction } from './config.js';

/** Where printed lines go. */
export interface OutputLines {
  out(line: string): void;
  err(line: string): void;
}

/** This process's stdout and stderr. */
export const processOutput: OutputLines = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** A scheduled time as shown in lines and lists: ISO 8601 in UTC, to the second (`2025-06-01T10:00:00Z`). */
export function formatTick(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/** A run's length: `12 ms`, `3.4 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** What a job does, in a few words: `shell: echo hi`, `task report year:2024`, `worker ReportWorker {"a":1}`. */
export function describeAction(action: JobAction): string {
  switch (action.kind) {
    case 'shell':
      return `shell: ${action.command}`;
    case 'task':
      return ['task', action.task, ...action.args].join(' ');
    case 'worker':
      return `worker ${action.worker} ${JSON.stringify(action.args)}`;
  }
}
