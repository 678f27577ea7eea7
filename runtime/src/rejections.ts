import { AsyncLocalStorage } from 'node:async_hooks';
import type { UnhandledRejectionPolicy } from './config/schema.js';
import { describeError } from './errors.js';
import type { Logger } from './logger.js';

/** The job whose code is running: what a rejection left behind by job code can be traced to. */
export interface RunningJob {
  id: string;
  worker: string;
  attempt: number;
}

/**
 * Holds the running job across everything its `perform` starts (timers, detached promises), so a
 * rejection nothing handled can name the worker that left it.
 */
export const runningJob = new AsyncLocalStorage<RunningJob>();

let installed: ((reason: unknown) => void) | undefined;

/**
 * Makes this process handle promise rejections nothing handled, as `workers.unhandled_rejection`
 * says: `keep_running` logs the rejection, with the worker and job whose code left it when it came
 * from job code, and serves on; `exit` logs it and exits with code 1 at once (running jobs come
 * back after their lease). Installed once per process; a later call changes the policy and logger.
 * Returns a function that removes the handler.
 */
export function handleUnhandledRejections(policy: UnhandledRejectionPolicy, logger: Logger): () => void {
  if (installed) process.off('unhandledRejection', installed);
  const handler = (reason: unknown) => {
    const job = runningJob.getStore();
    const from = job
      ? `left by job ${job.id} (${job.worker}, attempt ${job.attempt}) after or beside its perform`
      : 'not traced to a job';
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
