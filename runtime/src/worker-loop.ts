import { validateArgs } from './args-schema.js';
import { describeError } from './errors.js';
import type { Logger } from './logger.js';
import { OutcomeWriter } from './outcome-writer.js';
import type { ClaimedJob, JobOutcome, QueueBackend } from './queue/backend.js';
import { failed, interrupted, succeeded } from './queue/outcome.js';
import type { WorkerRegistry } from './registry.js';
import { runningJob } from './rejections.js';
import { DEFAULT_RETRY } from './retry.js';
import { sleep } from './sleep.js';

/** Options of `runWorkerLoop`. */
export interface WorkerLoopOptions {
  backend: QueueBackend;
  /** The registered workers: only jobs of these names are claimed. */
  registry: WorkerRegistry;
  /** Jobs run at once. (config `queue.num_workers`) */
  concurrency: number;
  /** Longest wait between claims when no wake-up arrives, in ms. (config `queue.poll_interval_sec`) */
  pollIntervalMs: number;
  /** Lease per claimed job, extended by heartbeats every third of it. (config `queue.lease_sec`) */
  leaseMs: number;
  /** The process's tags: empty takes only untagged jobs; otherwise jobs with at least one of them. */
  tags: string[];
  /** Take jobs whatever their tags (the in-process pool of `BackgroundAsync`, the only consumer there). */
  anyTag?: boolean;
  /** Abort to stop claiming; running jobs finish and their outcomes are saved before the promise resolves. */
  signal: AbortSignal;
  /**
   * Once `signal` aborts, how long running jobs get to finish; those still running then are handed
   * back to the queue, due at once, their attempt recorded as interrupted. (config
   * `workers.shutdown_timeout_sec`; Default: 30 s)
   */
  shutdownTimeoutMs?: number;
  logger: Logger;
}

/** How a worker loop ended. */
export interface WorkerLoopResult {
  /** Jobs still running when the shutdown timeout passed, handed back to the queue. */
  interrupted: number;
}

/** A job running in this loop; `handedBack` once the shutdown timeout gave it back to the queue. */
interface Run {
  job: ClaimedJob;
  /** Aborts the `signal` its `perform` was given. */
  attempt: AbortController;
  done: Promise<void>;
  handedBack?: boolean;
}

/** Longest stretch the loop runs without letting timers, I/O and signals in, in ms. */
const YIELD_EVERY_MS = 10;

/**
 * Outcomes not yet written may hold this many times `concurrency` beyond the running jobs before
 * claims wait for the writer: a crash re-runs every job that ran but was not recorded, so this
 * bounds re-runs (running plus unrecorded jobs stay within twice the slots) while one batch is
 * claimed as the previous one is written.
 */
const UNRECORDED_PER_SLOT = 1;

/**
 * The worker loop, shared by every backend: claims due jobs for free slots, runs them, records
 * their outcomes (batched while a write is in flight), keeps their leases alive with heartbeats,
 * returns expired leases to the queue, and sleeps on the backend's wake-up when there is no work.
 * Resolves once `signal` has aborted and every running job has finished and been recorded.
 */
export async function runWorkerLoop(options: WorkerLoopOptions): Promise<WorkerLoopResult> {
  const { backend, registry, concurrency, signal, logger } = options;
  const names = registry.names();
  /** The limits of the names that have them, sent with every claim. */
  const limits = Object.fromEntries(
    names.flatMap((name) => {
      const worker = registry.get(name)!;
      return worker.limits ? [[name, worker.limits]] : [];
    }),
  );
  /** Running jobs by `id#attempts`: the same job may run here twice if an operator requeued it. */
  const running = new Map<string, Run>();
  const outcomes = new OutcomeWriter(backend, logger);
  let slotFreed: (() => void) | undefined;
  let handedBack = 0;
  let claimFailures = 0;
  let nextReap = 0;
  let lastYield = Date.now();

  const heartbeat = setInterval(
    () => {
      if (running.size === 0) return;
      const ids = [...new Set([...running.values()].map((run) => run.job.id))];
      backend.heartbeat(ids, Date.now() + options.leaseMs).catch((err) => {
        logger.error(
          `Could not extend the lease of running jobs (they may run twice if this goes on): ${describeError(err)}`,
        );
      });
    },
    Math.max(10, Math.floor(options.leaseMs / 3)),
  );
  // Referenced only while jobs run (see `start`): then it holds the process open, so a job waiting
  // on nothing Node tracks (SQLite has no socket) does not let the process end under it.
  heartbeat.unref();

  const start = (job: ClaimedJob) => {
    const key = `${job.id}#${job.attempts}`;
    const attempt = new AbortController();
    const run: Run = {
      job,
      attempt,
      done: runJob(job, registry, logger, attempt).then((outcome) => {
        if (run.handedBack) return;
        running.delete(key);
        if (running.size === 0) heartbeat.unref();
        outcomes.add(outcome);
        slotFreed?.();
      }),
    };
    running.set(key, run);
    heartbeat.ref();
  };
  const unrecordedLimit = concurrency * (1 + UNRECORDED_PER_SLOT);

  try {
    while (!signal.aborted) {
      if (running.size >= concurrency) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        slotFreed = undefined;
        continue;
      }
      const room = unrecordedLimit - running.size - outcomes.unrecorded;
      if (room <= 0) {
        await outcomes.progress();
        continue;
      }
      const now = Date.now();
      let jobs: ClaimedJob[];
      try {
        if (now >= nextReap) {
          nextReap = now + Math.max(50, Math.min(options.leaseMs / 2, 5000));
          const reaped = await backend.reapExpired(now);
          if (reaped > 0)
            logger.info(
              `Found ${reaped} job(s) whose lease ran out: queued again, or failed where no attempts were left.`,
            );
        }
        jobs = await backend.claim({
          names,
          tags: options.tags,
          anyTag: options.anyTag,
          limit: Math.min(concurrency - running.size, room),
          limits: Object.keys(limits).length > 0 ? limits : undefined,
          leaseMs: options.leaseMs,
          now,
        });
        claimFailures = 0;
      } catch (err) {
        claimFailures += 1;
        const wait = Math.min(options.pollIntervalMs * claimFailures, 10_000);
        logger.error(`${backend.kind} queue: could not claim jobs (retrying in ${wait} ms): ${describeError(err)}`);
        await sleep(wait, signal);
        continue;
      }
      if (jobs.length === 0) {
        if (running.size === 0) await outcomes.flushed();
        await backend.waitForWork(options.pollIntervalMs, signal);
        continue;
      }
      for (const job of jobs) start(job);
      // A store whose calls complete synchronously (SQLite, in-process) would otherwise keep the
      // loop in microtasks for the whole drain: no timers, I/O or signals until the queue is empty.
      if (Date.now() - lastYield >= YIELD_EVERY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = Date.now();
      }
    }
  } finally {
    handedBack = await settleOrHandBack(running, options.shutdownTimeoutMs ?? 30_000, outcomes, logger);
    clearInterval(heartbeat);
    await outcomes.flushed();
  }
  return { interrupted: handedBack };
}

/**
 * Waits up to `timeoutMs` for the running jobs to finish; hands those still running then back to
 * the queue through `outcomes` (their late outcomes are ignored) and returns how many.
 */
async function settleOrHandBack(
  running: Map<string, Run>,
  timeoutMs: number,
  outcomes: OutcomeWriter,
  logger: Logger,
): Promise<number> {
  if (running.size === 0) return 0;
  let timer: NodeJS.Timeout | undefined;
  // A timer that holds the process open: waiting for jobs must not end in an empty event loop.
  const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), timeoutMs)));
  try {
    while (running.size > 0) {
      const settled = await Promise.race([Promise.all([...running.values()].map((run) => run.done)), expired]);
      if (settled === 'expired') break;
    }
  } finally {
    clearTimeout(timer);
  }
  const left = [...running.values()];
  for (const run of left) {
    run.handedBack = true;
    // A job that listens to its signal can stop; its outcome is ignored either way.
    run.attempt.abort(new Error(`${run.job.name} was handed back to the queue: the shutdown timeout passed.`));
    outcomes.add(interrupted(run.job, timeoutMs));
  }
  running.clear();
  if (left.length > 0) {
    logger.error(
      `Shutdown timeout of ${timeoutMs / 1000} s passed with ${left.length} job(s) still running ` +
        `(${left.map((run) => `${run.job.id} ${run.job.name}`).join(', ')}): handed back to the queue to run again at once.`,
    );
  }
  return left.length;
}

/** Runs one claimed job and turns what happened into its outcome (`queue/outcome.ts`). Never throws. */
function runJob(
  job: ClaimedJob,
  registry: WorkerRegistry,
  logger: Logger,
  attempt: AbortController,
): Promise<JobOutcome> {
  return runningJob.run(
    { id: job.id, worker: job.name, attempt: job.attempts },
    attemptJob,
    job,
    registry,
    logger,
    attempt,
  );
}

async function attemptJob(
  job: ClaimedJob,
  registry: WorkerRegistry,
  logger: Logger,
  attempt: AbortController,
): Promise<JobOutcome> {
  const worker = registry.get(job.name);
  try {
    if (!worker) throw new Error(`No worker is registered under the name '${job.name}'.`);
    const args = worker.argsSchema ? await validateArgs(worker.argsSchema, job.task_data, job.name) : job.task_data;
    const work = worker.instance.perform(args, attempt.signal);
    await (worker.timeoutMs === undefined ? work : withTimeout(work, worker.timeoutMs, job.name, attempt));
    return succeeded(job);
  } catch (err) {
    const outcome = failed(job, describeError(err), worker?.retry ?? DEFAULT_RETRY);
    try {
      logger.error(
        { job: job.id, worker: job.name, attempt: job.attempts },
        `Job ${job.id} (${job.name}) failed on attempt ${job.attempts} of ${job.max_attempts}` +
          `${outcome.runAt === null ? ', no attempts left' : `, retrying in ${outcome.runAt - Date.now()} ms`}: ${outcome.error}`,
      );
    } catch {
      // A logger that throws must not take the outcome with it.
    }
    return outcome;
  }
}

/**
 * Resolves or rejects with `work`; past `ms`, aborts `attempt` and rejects, after giving `work`
 * up to `ms` again to wind down (the job keeps its slot and lease meanwhile, so its retry does not
 * start beside it).
 */
async function withTimeout(work: Promise<void>, ms: number, name: string, attempt: AbortController): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), ms)));
  try {
    if ((await Promise.race([work, expired])) !== 'expired') return;
  } finally {
    clearTimeout(timer);
  }
  const error = new Error(`${name} ran longer than its timeout of ${ms} ms.`);
  attempt.abort(error);
  await Promise.race([work.catch(() => undefined), sleep(ms)]);
  throw error;
}
