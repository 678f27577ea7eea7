import type { UnhandledRejectionPolicy } from './config/schema.js';
import { describeError } from './errors.js';
import type { Logger } from './logger.js';

/** The job whose code is running: what a rejection left behind by job code can be traced to. */
export interface RunningJob {
  id: string;
  worker: string;
  attempt: number;
}

/** How long after it ended a job still counts as a possible source of a rejection, in ms. */
const LATELY_MS = 10_000;
/** Finished jobs remembered for that. */
const ENDED_KEPT = 20;

/** A job noted by `jobStarted`; `endedAt` is set once its code has returned. */
interface NotedJob extends RunningJob {
  endedAt: number;
}

const running = new Set<NotedJob>();
/** The last `ENDED_KEPT` jobs that ended, in a ring: `nextEnded` is where the next one goes. */
const ended: NotedJob[] = [];
let nextEnded = 0;

/**
 * Notes that a job's code runs in this process, until `jobEnded` is called with what this returns:
 * a rejection nothing handled is traced to the jobs that were running or had just ended. (An
 * AsyncLocalStorage would trace it exactly, but on Node 20 it puts a hook on every promise of the
 * process, about 15% of a drain.)
 */
export function jobStarted(id: string, worker: string, attempt: number): NotedJob {
  const job: NotedJob = { id, worker, attempt, endedAt: 0 };
  running.add(job);
  return job;
}

/** The job's code has returned; it stays a possible source of rejections for a while. */
export function jobEnded(job: NotedJob): void {
  if (!running.delete(job)) return;
  job.endedAt = Date.now();
  ended[nextEnded] = job;
  nextEnded = (nextEnded + 1) % ENDED_KEPT;
}

/** The jobs a rejection seen now may have come from: those running, then those that ended lately, newest first. */
function suspects(now = Date.now()): RunningJob[] {
  const lately = [...ended.slice(nextEnded), ...ended.slice(0, nextEnded)]
    .filter((job) => now - job.endedAt <= LATELY_MS)
    .reverse();
  return [...running, ...lately];
}

/** `left by job <id> (<worker>, attempt <n>)`, or the few candidates, or that it is not traced. */
function describeSource(jobs: RunningJob[]): string {
  const name = (job: RunningJob) => `job ${job.id} (${job.worker}, attempt ${job.attempt})`;
  if (jobs.length === 0) return 'not traced to a job (none ran in the last 10 s)';
  if (jobs.length === 1) return `left by ${name(jobs[0])} after or beside its perform`;
  const shown = jobs.slice(0, 5).map(name).join(', ');
  return `left by one of the jobs that ran lately: ${shown}${jobs.length > 5 ? `, and ${jobs.length - 5} more` : ''}`;
}

let installed: ((reason: unknown) => void) | undefined;

/**
 * Makes this process handle promise rejections nothing handled, as `workers.unhandled_rejection`
 * says: `keep_running` logs the rejection, with the job whose code left it when that can be told
 * (the one job running or just ended; otherwise the few that were), and serves on; `exit` logs it and exits with code 1 at once (running jobs come
 * back after their lease). Installed once per process; a later call changes the policy and logger.
 * Returns a function that removes the handler.
 */
export function handleUnhandledRejections(policy: UnhandledRejectionPolicy, logger: Logger): () => void {
  if (installed) process.off('unhandledRejection', installed);
  const handler = (reason: unknown) => {
    const jobs = suspects();
    const job = jobs.length === 1 ? jobs[0] : undefined;
    const from = describeSource(jobs);
    const then =
      policy === 'exit'
        ? 'exiting (workers.unhandled_rejection: exit)'
        : 'the process keeps serving (workers.unhandled_rejection: keep_running); handle or await that promise';
    try {
      logger.error(
        job ? { job: job.id, worker: job.worker, attempt: job.attempt } : {},
        `A promise rejected and nothing handled it, ${from}; ${then}: ${describeError(reason)}`,
      );
    } catch {
      // A logger that throws must not turn the policy into a crash.
    }
    if (policy === 'exit') process.exit(1);
  };
  installed = handler;
  process.on('unhandledRejection', handler);
  return () => {
    process.off('unhandledRejection', handler);
    if (installed === handler) installed = undefined;
  };
}
