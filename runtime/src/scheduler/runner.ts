/**
 * One run of one scheduler job: the shell command, the task or the enqueue, with what
 * `output:` asks to print around it. A failed run is reported, never thrown: the scheduler goes on.
 */
import type { Queue } from '../app-queue.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ScheduledJob } from './config.js';
import { describeAction, formatDuration, formatTick, type OutputLines, processOutput } from './output.js';
import { runShell } from './shell.js';
import type { ScheduledTasks } from './tasks.js';

/** Lines of a silent job's output kept to show when it fails. */
const TAIL_LINES = 20;

/** Runs a job once, for its scheduled time (`undefined` for `run_on_start`); resolves when the run has ended. */
export type RunJob = (job: ScheduledJob, tickAt: number | undefined) => Promise<void>;

/** What a job run needs from the app. */
export interface RunnerOptions {
  /** The app's root folder: shell commands run there. */
  root: string;
  /** Passed to shell commands as `LOCO_ENV`, as Loco does. */
  environment: string;
  tasks: ScheduledTasks;
  /** For `worker:` jobs: `performLater` by the app's `workers.mode`. */
  queue: Queue;
  /** Silent jobs' failures, and a debug line for each run. */
  logger: Logger;
  /** Where `output: stdout` lines go. (Default: this process's stdout and stderr) */
  print?: OutputLines;
}

/** Makes the function that runs a job once. */
export function jobRunner(options: RunnerOptions): RunJob {
  const print = options.print ?? processOutput;
  return async (job, tickAt) => {
    const loud = job.output === 'stdout';
    const when = tickAt === undefined ? 'run_on_start' : formatTick(tickAt);
    const tail: string[] = [];
    const onLine = (stream: 'stdout' | 'stderr', line: string) => {
      if (loud) (stream === 'stdout' ? print.out : print.err)(`[${job.name}] ${line}`);
      else {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
      }
    };
    if (loud) print.out(`[${job.name}] started (${when}): ${describeAction(job.action)}`);
    const started = performance.now();
    try {
      const note = await perform(job, tickAt, options, onLine);
      const took = formatDuration(performance.now() - started);
      if (loud) print.out(`[${job.name}] finished in ${took}${note ? `: ${note}` : ''}`);
      options.logger.debug(`scheduler: ${job.name} (${when}) finished in ${took}${note ? `: ${note}` : ''}`);
    } catch (err) {
      const took = formatDuration(performance.now() - started);
      const reason = err instanceof Error && job.action.kind === 'shell' ? err.message : describeError(err);
      if (loud) print.err(`[${job.name}] failed in ${took}: ${reason}`);
      else {
        const output = tail.length > 0 ? `; its last output:\n${tail.map((line) => `  ${line}`).join('\n')}` : '';
        options.logger.error(
          `scheduler: ${job.name} (${when}, ${describeAction(job.action)}) failed in ${took}: ${reason}${output}`,
        );
      }
    }
  };
}

/** Does the job's work; resolves with a note for the end line (the enqueued job's id). */
async function perform(
  job: ScheduledJob,
  tickAt: number | undefined,
  options: RunnerOptions,
  onLine: (stream: 'stdout' | 'stderr', line: string) => void,
): Promise<string | undefined> {
  const { action } = job;
  switch (action.kind) {
    case 'shell':
      await runShell(action.command, {
        cwd: options.root,
        env: {
          LOCO_ENV: options.environment,
          LOCO_SCHEDULER_JOB: job.name,
          LOCO_SCHEDULER_TICK: tickAt === undefined ? '' : formatTick(tickAt),
        },
        onLine,
      });
      return undefined;
    case 'task':
      await options.tasks.run(action.task, action.args);
      return undefined;
    case 'worker': {
      // checkJobTargets made sure it is registered.
      const worker = options.queue.registry.get(action.worker)!;
      const id = await options.queue.performLater(worker.type, action.args);
      return id === undefined
        ? `${action.worker} ran inline (${options.queue.mode})`
        : `enqueued ${action.worker} job ${id}`;
    }
  }
}
