/**
 * Lifecycle events of the jobs this process runs (`queue.on('completed', handler)`), and the
 * observer interface through which the worker loop reports them (to these events, and to the
 * metrics of `metrics.ts`). Handlers run in the process that ran the job; one that throws or
 * rejects is logged and never breaks the loop.
 */
import { describeError } from './errors.js';
import type { Logger } from './logger.js';
import type { ClaimedJob, JobOutcome } from './queue/backend.js';

/** What every event about one attempt carries. */
export interface JobAttemptEvent {
  /** The job as claimed: id, name, args (`task_data`), tags, queue, priority, `attempts` counting this one. */
  job: ClaimedJob;
  /** How long the attempt ran, in ms. */
  durationMs: number;
}

/** An attempt that failed: with attempts left (`retrying`) or without (`failed`). */
export interface JobFailureEvent extends JobAttemptEvent {
  /** The error message, with its stack, as stored in the job's `last_error`. */
  error: string;
}

/** An attempt that failed and will run again. */
export interface JobRetryEvent extends JobFailureEvent {
  /** When the next attempt is due (ms since the epoch). */
  runAt: number;
}

/** Jobs whose lease ran out (their worker died or hung), found by this process and queued again or failed. */
export interface JobStalledEvent {
  /** How many jobs were found. */
  count: number;
}

/** The events and what their handlers receive. */
export interface JobEventMap {
  /** An attempt succeeded (an interval job is queued for its next run). */
  completed: JobAttemptEvent;
  /** An attempt failed with no attempts left: the job ends `failed`. */
  failed: JobFailureEvent;
  /** An attempt failed and the job is queued again after its backoff. */
  retrying: JobRetryEvent;
  /** This process's lease check found jobs whose lease ran out. */
  stalled: JobStalledEvent;
}

export type JobEventName = keyof JobEventMap;
export type JobEventHandler<E extends JobEventName> = (event: JobEventMap[E]) => void | Promise<void>;

/** What the worker loop tells about its work; every method must return at once and never throw. */
export interface JobObserver {
  /** A job was claimed and is about to run (`now`: the claim time, ms since the epoch). */
  started(job: ClaimedJob, now: number): void;
  /** An attempt ended with `outcome` after `durationMs`. */
  finished(job: ClaimedJob, outcome: JobOutcome, durationMs: number): void;
  /** A claim failed (the store was unreachable or refused it). */
  claimFailed(): void;
  /** The lease check found `count` jobs whose lease ran out. */
  stalled(count: number): void;
}

/** The lifecycle events of one app's queue. */
export class JobEvents {
  private readonly handlers = new Map<JobEventName, Set<JobEventHandler<never>>>();

  /** Calls `handler` on each `event` in this process; returns a function that removes it. */
  on<E extends JobEventName>(event: E, handler: JobEventHandler<E>): () => void {
    if (!EVENT_NAMES.includes(event)) {
      throw new TypeError(
        `queue.on: expected one of the events ${EVENT_NAMES.join(', ')}, found ${JSON.stringify(event)}.`,
      );
    }
    if (typeof handler !== 'function') {
      throw new TypeError(`queue.on('${event}'): expected a function as the handler, found ${typeof handler}.`);
    }
    const set = this.handlers.get(event) ?? new Set();
    set.add(handler as JobEventHandler<never>);
    this.handlers.set(event, set);
    return () => this.off(event, handler);
  }

  /** Removes a handler given to `on`. */
  off<E extends JobEventName>(event: E, handler: JobEventHandler<E>): void {
    this.handlers.get(event)?.delete(handler as JobEventHandler<never>);
  }

  /** True when any handler listens to `event`. */
  has(event: JobEventName): boolean {
    return (this.handlers.get(event)?.size ?? 0) > 0;
  }

  /** Calls the handlers of `event`; errors, thrown or rejected, are logged and go no further. */
  emit<E extends JobEventName>(event: E, payload: JobEventMap[E], logger: Logger): void {
    const set = this.handlers.get(event);
    if (!set) return;
    for (const handler of set) {
      const report = (err: unknown) => {
        try {
          logger.error(`A queue.on('${event}') handler failed (the job is not affected): ${describeError(err)}`);
        } catch {
          // A logger that throws must not reach the loop either.
        }
      };
      try {
        const result = (handler as JobEventHandler<E>)(payload);
        if (result && typeof (result as Promise<void>).then === 'function') (result as Promise<void>).catch(report);
      } catch (err) {
        report(err);
      }
    }
  }

  /** The observer the worker loop reports to: it turns outcomes into these events. */
  observer(logger: Logger): JobObserver {
    return {
      started: () => undefined,
      claimFailed: () => undefined,
      finished: (job, outcome, durationMs) => {
        if (this.handlers.size === 0) return;
        if (outcome.error === undefined || outcome.error === null) {
          this.emit('completed', { job, durationMs }, logger);
        } else if (outcome.status === 'failed') {
          this.emit('failed', { job, durationMs, error: outcome.error }, logger);
        } else {
          this.emit('retrying', { job, durationMs, error: outcome.error, runAt: outcome.runAt ?? Date.now() }, logger);
        }
      },
      stalled: (count) => this.emit('stalled', { count }, logger),
    };
  }
}

const EVENT_NAMES: readonly JobEventName[] = ['completed', 'failed', 'retrying', 'stalled'];

/** One observer that tells each of `observers`, so the loop reports once. */
export function observeAll(...observers: Array<JobObserver | undefined>): JobObserver | undefined {
  const list = observers.filter((observer): observer is JobObserver => observer !== undefined);
  if (list.length <= 1) return list[0];
  return {
    started: (job, now) => {
      for (const observer of list) observer.started(job, now);
    },
    finished: (job, outcome, durationMs) => {
      for (const observer of list) observer.finished(job, outcome, durationMs);
    },
    claimFailed: () => {
      for (const observer of list) observer.claimFailed();
    },
    stalled: (count) => {
      for (const observer of list) observer.stalled(count);
    },
  };
}
