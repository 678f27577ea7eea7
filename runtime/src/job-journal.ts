/**
 * What a test sees of the app's jobs (`bootTest`): every job `performLater` enqueued, every job
 * run inline and how it ended, and, in the `jobs: 'queue'` test mode, the jobs held back until
 * the test runs them with `performEnqueued()`.
 */

/** A job as `performLater` handed it over. */
export interface EnqueuedJob {
  /** The worker's name (`className()`), as stored. */
  name: string;
  /** The args as JSON (what a store keeps). */
  args: unknown;
  /** The job's id; `undefined` when ForegroundBlocking ran it before returning. */
  id: string | undefined;
}

/** How a job run inline ended. */
export type PerformedOutcome = 'completed' | 'failed';

/** A job that ran inline (ForegroundBlocking, or `performEnqueued()`). */
export interface PerformedJob extends EnqueuedJob {
  outcome: PerformedOutcome;
  /** What `perform` threw, when `outcome` is `failed`. */
  error?: unknown;
}

/** A job held back in the `jobs: 'queue'` test mode, with its args as `perform` takes them. */
export interface HeldJob extends EnqueuedJob {
  id: string;
  /** The args after the worker's `argsSchema`, when it has one. */
  value: unknown;
}

/** The record of one test boot's jobs, kept by its `Queue`. */
export class JobJournal {
  /** Every job enqueued, in order. */
  readonly enqueued: EnqueuedJob[] = [];
  /** Every job run inline, in order of their end. */
  readonly performed: PerformedJob[] = [];
  /** Jobs enqueued and not yet run (only when `hold` is on). */
  readonly held: HeldJob[] = [];

  constructor(
    /** Keep ForegroundBlocking jobs instead of running them, until `performEnqueued()`. */
    readonly hold: boolean,
  ) {}

  /** Forgets every job recorded so far (held jobs included). */
  clear(): void {
    this.enqueued.length = 0;
    this.performed.length = 0;
    this.held.length = 0;
  }
}
