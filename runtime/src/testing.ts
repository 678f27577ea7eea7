import type { Queue } from './app-queue.js';
import { type BootedApp, boot } from './boot.js';
import { loadConfig } from './config/load.js';
import type { AppContext } from './context.js';
import { LocoError, RegistryError } from './errors.js';
import type { AppDefinition } from './hooks.js';
import { type EnqueuedJob, JobJournal, type PerformedJob } from './job-journal.js';
import { type JobMatch, matchJobs } from './job-match.js';
import { TaskVars } from './task.js';
import type { WorkerClass } from './worker-class.js';

export type { EnqueuedJob, PerformedJob, PerformedOutcome } from './job-journal.js';
export type { JobMatch } from './job-match.js';

/** A worker class, or the name its jobs are stored under. */
export type WorkerRef = WorkerClass | string;

/** Options of `bootTest`. */
export interface BootTestOptions {
  /** The environment whose config is read. (Default: `test`, that is `config/test.yaml`) */
  environment?: string;
  /** The app's root folder. (Default: the current directory) */
  root?: string;
  /**
   * What `performLater` does in the test. `config`: what the config's `workers.mode` says
   * (`config/test.yaml` of a new app: ForegroundBlocking, the job runs before `performLater`
   * returns). `queue`: the job is recorded with an id and not run, whatever the config says,
   * until `boot.performEnqueued()` runs it inline. (Default: `config`)
   */
  jobs?: 'config' | 'queue';
}

/** Options of `performEnqueued`. */
export interface PerformEnqueuedOptions {
  /** Run only this worker's jobs; the others stay enqueued. (Default: every job) */
  only?: WorkerRef;
  /**
   * Most jobs one call runs, counting jobs enqueued by the jobs it runs; past it the call throws,
   * since jobs that keep enqueuing each other would never end. (Default: 100)
   */
  limit?: number;
}

/** What `bootTest` returns. */
export interface TestBoot {
  /** The app context, for `MyWorker.performLater(boot.ctx, args)`. */
  ctx: AppContext;
  queue: Queue;
  app: BootedApp;
  /** Closes the queue; call it in `finally`. */
  shutdown(): Promise<void>;
  /** Runs a task registered in `registerTasks` with these vars; throws if none has that name. */
  runTask(name: string, vars?: Record<string, string>): Promise<void>;
  /** The jobs enqueued since boot (or `clearJobs`), in order; only `worker`'s when given. */
  enqueued(worker?: WorkerRef): EnqueuedJob[];
  /** The jobs run inline since boot (or `clearJobs`), with their outcome; only `worker`'s when given. */
  performed(worker?: WorkerRef): PerformedJob[];
  /**
   * Fails unless a job of `worker` was enqueued whose args contain `args` (objects compared by
   * the keys `args` names, recursively; anything else by equality). With `count`, exactly that
   * many such jobs must have been. Returns the matching jobs. The failure shows the jobs enqueued
   * and a diff against the closest one.
   */
  assertEnqueued(worker: WorkerRef, args?: unknown, options?: { count?: number }): EnqueuedJob[];
  /** As `assertEnqueued`, for jobs run to completion (a job that threw does not count). */
  assertPerformed(worker: WorkerRef, args?: unknown, options?: { count?: number }): PerformedJob[];
  /**
   * In the `jobs: 'queue'` mode, runs the jobs enqueued and not yet run, in order, through the
   * registry as ForegroundBlocking would, then the jobs those enqueue, until none is left. A job's
   * error is thrown at once (the jobs after it stay enqueued). Returns how many jobs ran.
   */
  performEnqueued(options?: PerformEnqueuedOptions): Promise<number>;
  /** Forgets the jobs recorded so far, the ones still enqueued included. */
  clearJobs(): void;
}

/**
 * Boots the app for a test with `config/test.yaml` (whose `workers.mode: ForegroundBlocking`
 * makes `performLater` run the job inline and throw its error), recording the jobs enqueued and
 * run so the test can assert on them (`boot.assertPerformed(MyWorker, { userGuid: 'foo' })`).
 */
export async function bootTest(app: AppDefinition, options: BootTestOptions = {}): Promise<TestBoot> {
  const environment = options.environment ?? 'test';
  const hold = options.jobs === 'queue';
  if (options.jobs !== undefined && options.jobs !== 'config' && !hold) {
    throw new LocoError(`bootTest: jobs must be 'config' or 'queue', found ${JSON.stringify(options.jobs)}.`);
  }
  let config: ReturnType<typeof loadConfig> | undefined;
  if (hold) {
    // Held jobs live in the journal; no store is opened, so parallel test files share nothing.
    const loaded = loadConfig({ environment, root: options.root });
    config = { ...loaded, workers: { ...loaded.workers, mode: 'ForegroundBlocking' } };
  }
  const journal = new JobJournal(hold);
  const booted = await boot(app, { environment, root: options.root, config, journal });
  const queue = booted.ctx.queue;
  const nameOf = (worker: WorkerRef) => (typeof worker === 'string' ? worker : worker.className());
  const only = <J extends EnqueuedJob>(jobs: J[], worker?: WorkerRef) =>
    worker === undefined ? [...jobs] : jobs.filter((job) => job.name === nameOf(worker));

  return {
    ctx: booted.ctx,
    queue,
    app: booted,
    shutdown: () => booted.shutdown(),
    runTask: async (name, vars = {}) => booted.tasks.getOrThrow(name).run(booted.ctx, new TaskVars(vars, name)),
    enqueued: (worker) => only(journal.enqueued, worker),
    performed: (worker) => only(journal.performed, worker),
    assertEnqueued: (worker, args, opts = {}) =>
      matchJobs(match('enqueued', nameOf(worker), journal.enqueued, args, opts.count)),
    assertPerformed: (worker, args, opts = {}) =>
      matchJobs(match('performed', nameOf(worker), journal.performed, args, opts.count)),
    async performEnqueued({ only: onlyWorker, limit = 100 } = {}) {
      if (!hold) {
        throw new LocoError(
          "performEnqueued runs jobs held back by bootTest(App, { jobs: 'queue' }); this boot runs jobs " +
            `as workers.mode ${queue.mode} says. Boot with { jobs: 'queue' } to hold jobs until performEnqueued.`,
        );
      }
      let ran = 0;
      for (;;) {
        const index = journal.held.findIndex((job) => onlyWorker === undefined || job.name === nameOf(onlyWorker));
        if (index < 0) return ran;
        if (ran === limit) {
          throw new LocoError(
            `performEnqueued ran ${limit} jobs and ${journal.held.length} are still enqueued ` +
              `(next: ${journal.held[index].name}); jobs that enqueue each other may never end. ` +
              'Pass a larger limit if the test means to run more.',
          );
        }
        const [job] = journal.held.splice(index, 1);
        const worker = queue.registry.get(job.name);
        if (!worker) {
          throw new RegistryError(`${job.name} is not registered; register it in connectWorkers in src/app.ts.`);
        }
        ran += 1;
        const { value, ...record } = job;
        await queue.performInline(worker, record, value);
      }
    },
    clearJobs: () => journal.clear(),
  };
}

function match<J extends EnqueuedJob>(
  verb: 'enqueued' | 'performed',
  name: string,
  jobs: J[],
  args: unknown,
  count: number | undefined,
): JobMatch<J> {
  return { verb, name, jobs, args, count };
}
