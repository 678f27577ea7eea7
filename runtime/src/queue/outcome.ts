/**
 * The rules that move a job on once an attempt ends, stated once for every store: a store's
 * `finish` and `reapExpired` only apply what these return.
 */
import { storableText } from '../job-limits.js';
import { backoffDelay, type RetryPolicy } from '../retry.js';
import type { ClaimedJob, JobOutcome } from './backend.js';

/** `last_error` of a job whose lease ran out: it is queued again at its place, or fails with no attempts left. */
export const LEASE_EXPIRED_ERROR =
  'The lease ran out before the job finished: its worker exited, was killed, or was blocked past the lease (no heartbeat).';

/**
 * The attempt succeeded: a one-off job ends `completed` (keeping any error of an earlier
 * attempt); an interval job is queued again `interval` ms from now with a fresh count of attempts
 * and no error.
 */
export function succeeded(job: ClaimedJob, now = Date.now()): JobOutcome {
  if (job.interval === null) {
    return {
      id: job.id,
      name: job.name,
      attempts: job.attempts,
      status: 'completed',
      runAt: null,
      nextAttempts: job.attempts,
      error: undefined,
    };
  }
  return {
    id: job.id,
    name: job.name,
    attempts: job.attempts,
    status: 'queued',
    runAt: now + job.interval,
    nextAttempts: 0,
    error: null,
  };
}

/**
 * Whether an outcome is what `succeeded` gives a one-off job: `completed`, with its run_at,
 * attempts and error kept. Stores write these, the most common outcome, in a shorter form.
 */
export function isPlainCompletion(outcome: JobOutcome): boolean {
  return (
    outcome.status === 'completed' &&
    outcome.runAt === null &&
    outcome.error === undefined &&
    outcome.nextAttempts === outcome.attempts
  );
}

/**
 * The attempt failed with `error`: while attempts remain the job is queued again after the
 * policy's backoff, otherwise it ends `failed`. Either way the error is kept, and so are the args.
 */
export function failed(job: ClaimedJob, error: string, retry: RetryPolicy, now = Date.now()): JobOutcome {
  const retryAt = job.attempts < job.max_attempts ? now + backoffDelay(retry, job.attempts) : null;
  return {
    id: job.id,
    name: job.name,
    attempts: job.attempts,
    status: retryAt === null ? 'failed' : 'queued',
    runAt: retryAt,
    nextAttempts: job.attempts,
    // An error message may hold a NUL (Postgres cannot store it) or half a surrogate pair (drivers
    // replace it): written the same way for every store.
    error: storableText(error),
  };
}

/**
 * The attempt was cut short by a shutdown that ran out of time: the job is queued again due at
 * once (its attempt counted, so a late outcome of it stays fenced off), or ends `failed` when that
 * was its last attempt, as when a lease runs out.
 */
export function interrupted(job: ClaimedJob, timeoutMs: number, now = Date.now()): JobOutcome {
  const again = job.attempts < job.max_attempts;
  return {
    id: job.id,
    name: job.name,
    attempts: job.attempts,
    status: again ? 'queued' : 'failed',
    runAt: again ? now : null,
    nextAttempts: job.attempts,
    error:
      `Interrupted: the worker shut down and the job was still running when its shutdown timeout of ` +
      `${timeoutMs / 1000} s passed (workers.shutdown_timeout_sec).`,
  };
}

/**
 * The job was claimed but never started (the process stopped first): it goes back to `queued`,
 * due now, with the attempt it was claimed with given back and its last error kept.
 */
export function handedBack(job: ClaimedJob, now = Date.now()): JobOutcome {
  return {
    id: job.id,
    name: job.name,
    attempts: job.attempts,
    status: 'queued',
    runAt: now,
    nextAttempts: job.attempts - 1,
    error: undefined,
  };
}
