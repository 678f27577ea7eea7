import { describeError } from './errors.js';
import type { ClaimedJob, JobOutcome, QueueBackend } from './queue/backend.js';
import type { Queue } from './queue.js';
import { backoffDelay, DEFAULT_RETRY, type WorkerClass } from './worker.js';

/** Where the loop reports job errors and its own trouble. */
export interface WorkerLogger {
  info(message: string): void;
  error(message: string): void;
}

/** Options of `runWorkerLoop`. */
export interface WorkerLoopOptions {
  backend: QueueBackend;
  /** The registry: only jobs whose names are registered here are claimed. */
  queue: Queue;
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
  logger?: WorkerLogger;
}

/** Tries at writing a batch of outcomes before writing them one at a time. */
const WRITE_TRIES = 3;
/** Refusals of one outcome, while others are saved, before it is given up (its lease then brings the job back). */
const POISON_TRIES = 5;

/** Longest stretch the loop runs without letting timers, I/O and signals in, in ms. */
const YIELD_EVERY_MS = 10;

const consoleLogger: WorkerLogger = {
  info: (message) => console.log(message),
  error: (message) => console.error(message),
};

/**
 * The worker loop, shared by every backend: claims due jobs for free slots, runs them, records
 * their outcomes (batched while a write is in flight), keeps their leases alive with heartbeats,
 * returns expired leases to the queue, and sleeps on the backend's wake-up when there is no work.
 * Resolves once `signal` has aborted and every running job has finished and been recorded.
 */
export async function runWorkerLoop(options: WorkerLoopOptions): Promise<void> {
  const { backend, queue, concurrency, signal } = options;
  const logger = options.logger ?? consoleLogger;
  const names = queue.names();
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
    const done = runJob(job, queue, logger).then((outcome) => {
      running.delete(key);
      outcomes.add(outcome);
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
          if (reaped > 0)
            logger.info(
              `Found ${reaped} job(s) whose lease ran out: queued again, or failed where no attempts were left.`,
            );
        }
        jobs = await backend.claim({
          names,
          tags: options.tags,
          anyTag: options.anyTag,
          limit: concurrency - running.size,
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
    while (running.size > 0) await Promise.all([...running.values()].map((run) => run.done));
    clearInterval(heartbeat);
    await outcomes.flushed();
  }
}

/** Runs one claimed job and turns what happened into an outcome. Never throws. */
async function runJob(job: ClaimedJob, queue: Queue, logger: WorkerLogger): Promise<JobOutcome> {
  const worker = queue.worker(job.name);
  const type = worker?.constructor as WorkerClass | undefined;
  try {
    if (!worker || !type) throw new Error(`No worker is registered under the name '${job.name}'.`);
    const timeout = type.timeoutMs();
    const attempt = new AbortController();
    const work = worker.perform(job.task_data, attempt.signal);
    await (timeout === undefined ? work : withTimeout(work, timeout, job.name, attempt));
    return {
      id: job.id,
      attempts: job.attempts,
      ok: true,
      requeueAt: job.interval === null ? null : Date.now() + job.interval,
    };
  } catch (err) {
    const error = describeError(err);
    const retry = job.attempts < job.max_attempts;
    const retryAt = retry ? Date.now() + backoffDelay(type?.retry() ?? DEFAULT_RETRY, job.attempts) : null;
    try {
      logger.error(
        `Job ${job.id} (${job.name}) failed on attempt ${job.attempts} of ${job.max_attempts}` +
          `${retry ? `, retrying in ${retryAt! - Date.now()} ms` : ', no attempts left'}: ${error}`,
      );
    } catch {
      // A logger that throws must not take the outcome with it.
    }
    return { id: job.id, attempts: job.attempts, ok: false, error, retryAt };
  }
}

/**
 * Saves outcomes with as few writes as the store allows: while one write is in flight, later
 * outcomes gather and go in the next one (group commit). A failed write is retried with backoff,
 * then outcome by outcome; one the store keeps refusing while it saves others is given up, and
 * its lease brings the job back, as when the process dies.
 */
class OutcomeWriter {
  private pending: JobOutcome[] = [];
  private writing: Promise<void> | undefined;
  /** Successful writes so far: tells a refused outcome from a store that is down. */
  private saved = 0;
  private readonly refused = new Map<JobOutcome, { tries: number; savedBefore: number }>();

  constructor(
    private readonly backend: QueueBackend,
    private readonly logger: WorkerLogger,
  ) {}

  add(outcome: JobOutcome): void {
    this.pending.push(outcome);
    this.writing ??= this.drain();
  }

  /** Resolves when every outcome added so far is saved. */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    // Let the jobs that finish in this turn of the event loop join the first write.
    await new Promise<void>((resolve) => setImmediate(resolve));
    let failures = 0;
    while (this.pending.length > 0) {
      // After repeated failures, write one outcome at a time, so that one the store refuses
      // cannot hold back the others.
      const single = failures >= WRITE_TRIES;
      const batch = single ? this.pending.splice(0, 1) : this.pending.splice(0);
      try {
        await this.backend.finish(batch);
        failures = 0;
        this.saved += 1;
        for (const outcome of batch) this.refused.delete(outcome);
      } catch (err) {
        failures += 1;
        if (single && this.giveUp(batch[0])) {
          this.logger.error(
            `Gave up saving the outcome of job ${batch[0].id}: the store refused it ${POISON_TRIES} times while ` +
              `saving others, so it will run again once its lease runs out. Last error: ${describeError(err)}`,
          );
          continue;
        }
        this.pending = single ? this.pending.concat(batch) : batch.concat(this.pending);
        const wait = Math.min(100 * 2 ** failures, 5000);
        this.logger.error(
          `Could not save ${batch.length} job outcome(s) (retrying in ${wait} ms): ${describeError(err)}`,
        );
        await sleep(wait);
      }
    }
    this.writing = undefined;
  }

  /** Counts a refusal of one outcome; true once it was refused often while other writes went through. */
  private giveUp(outcome: JobOutcome): boolean {
    const seen = this.refused.get(outcome) ?? { tries: 0, savedBefore: this.saved };
    seen.tries += 1;
    this.refused.set(outcome, seen);
    if (seen.tries < POISON_TRIES || this.saved === seen.savedBefore) return false;
    this.refused.delete(outcome);
    return true;
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

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
