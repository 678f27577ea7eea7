import { validateArgs } from './args-schema.js';
import { describeError } from './errors.js';
import type { JobObserver } from './events.js';
import type { Logger } from './logger.js';
import { OutcomeWriter } from './outcome-writer.js';
import type { ClaimedJob, JobOutcome, QueueBackend } from './queue/backend.js';
import { failed, succeeded } from './queue/outcome.js';
import type { WorkerRegistry } from './registry.js';
import { DEFAULT_RETRY } from './retry.js';
import { sleep } from './sleep.js';
import { traceRun } from './tracing.js';

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
  logger: Logger;
  /** Told of starts, outcomes, claim errors and expired leases (lifecycle events, metrics); must not throw. */
  observer?: JobObserver;
}

/** Longest stretch the loop runs without letting timers, I/O and signals in, in ms. */
const YIELD_EVERY_MS = 10;

/**
 * The worker loop, shared by every backend: claims due jobs for free slots, runs them, records
 * their outcomes (batched while a write is in flight), keeps their leases alive with heartbeats,
 * returns expired leases to the queue, and sleeps on the backend's wake-up when there is no work.
 * Resolves once `signal` has aborted and every running job has finished and been recorded.
 */
export async function runWorkerLoop(options: WorkerLoopOptions): Promise<void> {
  const { backend, registry, concurrency, signal, logger, observer } = options;
  const names = registry.names();
  /** The limits of the names that have them, sent with every claim. */
  const limits = Object.fromEntries(
    names.flatMap((name) => {
      const worker = registry.get(name)!;
      return worker.limits ? [[name, worker.limits]] : [];
    }),
  );
  /** Running jobs by `id#attempts`: the same job may run here twice if an operator requeued it. */
  const running = new Map<string, { id: string; done: Promise<void> }>();
  const outcomes = new OutcomeWriter(backend, logger);
  let slotFreed: (() => void) | undefined;
  let claimFailures = 0;
  let nextReap = 0;
  let lastYield = Date.now();

  const heartbeat = setInterval(
    () => {
      if (running.size === 0) return;
      const ids = [...new Set([...running.values()].map((run) => run.id))];
      backend.heartbeat(ids, Date.now() + options.leaseMs).catch((err) => {
        logger.error(
          `Could not extend the lease of running jobs (they may run twice if this goes on): ${describeError(err)}`,
        );
      });
    },
    Math.max(10, Math.floor(options.leaseMs / 3)),
  );
  heartbeat.unref();

  const start = (job: ClaimedJob) => {
    const key = `${job.id}#${job.attempts}`;
    const startedAt = performance.now();
    observer?.started(job, Date.now());
    const done = traceRun(job, () => runJob(job, registry, logger)).then((outcome) => {
      running.delete(key);
      outcomes.add(outcome);
      observer?.finished(job, outcome, performance.now() - startedAt);
      slotFreed?.();
    });
    running.set(key, { id: job.id, done });
  };

  try {
    while (!signal.aborted) {
      if (running.size >= concurrency) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        slotFreed = undefined;
        continue;
      }
      const now = Date.now();
      let jobs: ClaimedJob[];
      try {
        if (now >= nextReap) {
          nextReap = now + Math.max(50, Math.min(options.leaseMs / 2, 5000));
          const reaped = await backend.reapExpired(now);
          if (reaped > 0) {
            logger.info(
              `Found ${reaped} job(s) whose lease ran out: queued again, or failed where no attempts were left.`,
            );
            observer?.stalled(reaped);
          }
        }
        jobs = await backend.claim({
          names,
          tags: options.tags,
          anyTag: options.anyTag,
          limit: concurrency - running.size,
          limits: Object.keys(limits).length > 0 ? limits : undefined,
          leaseMs: options.leaseMs,
          now,
        });
        claimFailures = 0;
      } catch (err) {
        claimFailures += 1;
        observer?.claimFailed();
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
    while (running.size > 0) await Promise.all([...running.values()].map((run) => run.done));
    clearInterval(heartbeat);
    await outcomes.flushed();
  }
}

/** Runs one claimed job and turns what happened into its outcome (`queue/outcome.ts`). Never throws. */
async function runJob(job: ClaimedJob, registry: WorkerRegistry, logger: Logger): Promise<JobOutcome> {
  const worker = registry.get(job.name);
  try {
    if (!worker) throw new Error(`No worker is registered under the name '${job.name}'.`);
    const args = worker.argsSchema ? await validateArgs(worker.argsSchema, job.task_data, job.name) : job.task_data;
    const attempt = new AbortController();
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
