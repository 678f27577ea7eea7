import { getEventListeners } from 'node:events';
import { validateArgs } from './args-schema.js';
import { describeError } from './errors.js';
import type { JobObserver } from './events.js';
import { JobRunner } from './job-runner.js';
import type { Logger } from './logger.js';
import { OutcomeWriter } from './outcome-writer.js';
import type { ClaimedJob, JobOutcome, QueueBackend } from './queue/backend.js';
import { failed, handedBack as givenBack, interrupted, succeeded } from './queue/outcome.js';
import type { WorkerRegistry } from './registry.js';
import { jobEnded, jobStarted } from './rejections.js';
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
  /** Jobs claimed ahead of free slots while jobs are short; 0 turns it off. (config `queue.prefetch`; Default: `PREFETCH_PER_SLOT` × `concurrency`) */
  prefetch?: number;
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
  /**
   * Kill the process once its event loop has been blocked this long, in ms (`watchdog.ts`);
   * 0 or `undefined` for none. (config `workers.watchdog_sec`)
   */
  watchdogMs?: number;
  logger: Logger;
  /** Told of starts, outcomes, claim errors and expired leases (lifecycle events, metrics); must not throw. */
  observer?: JobObserver;
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
/** Claims one process keeps in flight at once: a claim's round trip overlaps the next one's. */
export const MAX_CLAIMS_IN_FLIGHT = 2;
/** Jobs are claimed ahead of free slots only while the mean run time stays under this, in ms. */
export const SHORT_JOB_MS = 50;
/**
 * Jobs claimed ahead per slot unless `prefetch` says otherwise. Both claims in flight take a
 * slot's worth of jobs only when the room ahead holds both; with as many as the slots, the second
 * found none (Redis drain, N=50000, C=10: 20.0k jobs/s, against 23.4k with four times the slots).
 */
export const PREFETCH_PER_SLOT = 4;
/** Weight of the newest run time in the running mean. */
const MEAN_WEIGHT = 0.2;

/**
 * Outcomes not yet written may hold this many times `concurrency` beyond the running jobs before
 * jobs wait to start or be claimed: a crash re-runs every job that ran but was not recorded, so
 * this bounds re-runs (running plus unrecorded jobs stay within twice the slots) while one batch
 * runs as the previous one is written.
 */
const UNRECORDED_PER_SLOT = 1;

/**
 * The worker loop, shared by every backend: claims due jobs for free slots, runs them, records
 * their outcomes (batched while a write is in flight; carried by the next claim where the store
 * writes them in the claim's own transaction), keeps their leases alive with heartbeats,
 * returns expired leases to the queue, and sleeps on the backend's wake-up when there is no work.
 *
 * While jobs are short (mean run time under `SHORT_JOB_MS`), the loop keeps up to `prefetch` jobs
 * claimed ahead of its free slots and up to `MAX_CLAIMS_IN_FLIGHT` claims on the way, so that a
 * slot that frees finds its next job waiting instead of a round trip to the store. Jobs claimed
 * ahead are leased and heartbeaten like running ones; at shutdown those not started are handed
 * back to the queue, due at once, with their attempt given back.
 *
 * Resolves once `signal` has aborted and every running job has finished and been recorded (or
 * was handed back when the shutdown timeout passed).
 */
export async function runWorkerLoop(options: WorkerLoopOptions): Promise<WorkerLoopResult> {
  const { backend, registry, concurrency, signal, logger, observer } = options;
  const prefetch = options.prefetch ?? concurrency * PREFETCH_PER_SLOT;
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
  /**
   * Controllers whose signal the job that had it left as it found it (see `untouched`), for the
   * next jobs to start. On Node 20 a new `AbortSignal` costs about 2 µs, and in a drain of
   * 100,000 jobs the fresh signals made up 124 of the 190 MB moved to the old generation. At
   * most `concurrency` are kept.
   */
  const spareAttempts: AbortController[] = [];
  /** Jobs claimed ahead of a free slot, oldest claim first. */
  const ready: ClaimedJob[] = [];
  const outcomes = new OutcomeWriter(backend, logger);
  const runner = new JobRunner({ logger, watchdogMs: options.watchdogMs });
  /** Wakes the loop when a slot frees, a claim returns or an outcome write ends. */
  let changed: (() => void) | undefined;
  const notify = () => changed?.();
  let claimsInFlight = 0;
  /** Jobs asked for by the claims in flight. */
  let asked = 0;
  /** The last claim found nothing: wait for work before the next. */
  let dry = false;
  let handedBack = 0;
  let claimFailures = 0;
  let retryAt = 0;
  let nextReap = 0;
  let lastYield = Date.now();
  /** Running mean of run times, in ms; starts long, so nothing is claimed ahead before a job has run. */
  let meanRunMs = SHORT_JOB_MS;

  // Heartbeats keep the leases of running jobs, of jobs claimed ahead, and of jobs that ran here
  // and whose outcome is not saved yet (a write that stalls must not bring them back to run again).
  const heartbeat = setInterval(
    () => {
      if (running.size === 0 && ready.length === 0 && outcomes.unrecorded === 0) return;
      const ids = [
        ...new Set([
          ...[...running.values()].map((run) => run.job.id),
          ...ready.map((job) => job.id),
          ...outcomes.heldIds(),
        ]),
      ];
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
    const attempt = spareAttempts.pop() ?? new AbortController();
    const began = performance.now();
    observer?.started(job, Date.now());
    // Rejections the job's code leaves behind are told apart by the jobs running when they come.
    const noted = jobStarted(job.id, job.name, job.attempts);
    const run: Run = {
      job,
      attempt,
      done: traceRun(job, () => attemptJob(job, registry, runner, logger, attempt)).then((outcome) => {
        jobEnded(noted);
        if (untouched(attempt) && spareAttempts.length < concurrency) spareAttempts.push(attempt);
        if (run.handedBack) return;
        const ranMs = performance.now() - began;
        meanRunMs += (ranMs - meanRunMs) * MEAN_WEIGHT;
        running.delete(key);
        if (running.size === 0) heartbeat.unref();
        outcomes.add(outcome);
        observer?.finished(job, outcome, ranMs);
        notify();
      }),
    };
    running.set(key, run);
    heartbeat.ref();
  };

  /**
   * Jobs that run or ran here and whose outcome is not written yet: a crash re-runs every one of
   * them. One rule bounds them, for starting a job and for claiming one: at most `unwrittenLimit`.
   */
  const unwritten = () => running.size + outcomes.unrecorded;
  const unwrittenLimit = concurrency * (1 + UNRECORDED_PER_SLOT);

  /**
   * Room for more claimed jobs: what may start (free slots, within the bound on unwritten jobs),
   * plus `prefetch` more while jobs are short, less what is claimed already and not started.
   */
  const ahead = () => (meanRunMs < SHORT_JOB_MS ? prefetch : 0);
  const room = () =>
    Math.min(concurrency - running.size, unwrittenLimit - unwritten()) + ahead() - ready.length - asked;

  /**
   * Whether a claim for `want` jobs goes out now: at once while nothing is ready or on the way, or
   * when outcomes wait that it would carry (`finishInClaim`: one call then records them and takes
   * the next jobs, instead of a write of their own beside the claims; as a job that ends leaves
   * an outcome, this is the usual case on such stores); otherwise, while claiming ahead, once it
   * can ask for at least half of `prefetch`, so that the store gets a few large claims rather
   * than one small top-up each time slots free.
   */
  const worthClaiming = (want: number) =>
    want > 0 &&
    (ready.length + asked === 0 ||
      (backend.capabilities.finishInClaim && outcomes.waiting > 0) ||
      want >= Math.max(1, Math.floor(ahead() / 2)));

  const claim = async (limit: number) => {
    claimsInFlight += 1;
    asked += limit;
    // Where a claim records outcomes in its own transaction, the waiting ones go with it.
    const finishing = backend.capabilities.finishInClaim ? outcomes.takeForClaim() : [];
    let saved = false;
    try {
      const now = Date.now();
      const jobs = await backend.claim({
        names,
        tags: options.tags,
        anyTag: options.anyTag,
        limit,
        limits: Object.keys(limits).length > 0 ? limits : undefined,
        leaseMs: options.leaseMs,
        now,
        finish: finishing.length > 0 ? finishing : undefined,
      });
      saved = true;
      if (claimFailures > 0) outcomes.storeAnswered();
      claimFailures = 0;
      if (jobs.length === 0) dry = true;
      ready.push(...jobs);
    } catch (err) {
      claimFailures += 1;
      observer?.claimFailed();
      const wait = Math.min(options.pollIntervalMs * claimFailures, 10_000);
      retryAt = Date.now() + wait;
      logger.error(`${backend.kind} queue: could not claim jobs (retrying in ${wait} ms): ${describeError(err)}`);
    } finally {
      outcomes.claimEnded(finishing, saved);
      claimsInFlight -= 1;
      asked -= limit;
      notify();
    }
  };

  const reap = async (now: number) => {
    nextReap = now + Math.max(50, Math.min(options.leaseMs / 2, 5000));
    try {
      const reaped = await backend.reapExpired(now);
      if (reaped > 0) {
        logger.info(`Found ${reaped} job(s) whose lease ran out: queued again, or failed where no attempts were left.`);
        observer?.stalled(reaped);
      }
    } catch (err) {
      logger.error(`${backend.kind} queue: could not return expired leases to the queue: ${describeError(err)}`);
    }
  };

  signal.addEventListener('abort', notify, { once: true });
  try {
    while (!signal.aborted) {
      while (running.size < concurrency && ready.length > 0 && unwritten() < unwrittenLimit) {
        start(ready.shift()!);
      }
      const now = Date.now();
      if (now < retryAt && ready.length === 0) {
        await sleep(retryAt - now, signal);
        continue;
      }
      if (dry && claimsInFlight === 0 && ready.length === 0) {
        if (running.size === 0) await outcomes.flushed();
        await backend.waitForWork(options.pollIntervalMs, signal);
        dry = false;
        continue;
      }
      if (!dry && now >= retryAt && claimsInFlight < MAX_CLAIMS_IN_FLIGHT && worthClaiming(room())) {
        if (now >= nextReap) await reap(now);
        // The reap let other work in: a job that ended meanwhile may have changed the room.
        const want = room();
        if (worthClaiming(want)) void claim(want);
        // A store whose calls complete synchronously (SQLite, in-process) would otherwise keep the
        // loop in microtasks for the whole drain: no timers, I/O or signals until the queue is empty.
        if (Date.now() - lastYield >= YIELD_EVERY_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYield = Date.now();
        }
        continue;
      }
      // Every change the loop waits for (a slot freed, a claim back, the abort, a write of
      // outcomes) calls `notify` or ends `progress`; none can happen between the checks above and
      // here, as nothing is awaited in between.
      const wake = new Promise<void>((resolve) => (changed = resolve));
      await (outcomes.unrecorded > 0 ? Promise.race([wake, outcomes.progress()]) : wake);
      changed = undefined;
    }
  } finally {
    signal.removeEventListener('abort', notify);
    while (claimsInFlight > 0) await new Promise<void>((resolve) => (changed = resolve));
    changed = undefined;
    for (const job of ready.splice(0)) outcomes.add(givenBack(job));
    handedBack = await settleOrHandBack(running, options.shutdownTimeoutMs ?? 30_000, outcomes, logger);
    clearInterval(heartbeat);
    await Promise.all([outcomes.flushed(), runner.close()]);
  }
  return { interrupted: handedBack };
}

/**
 * Whether the signal of a job that has ended may be handed to the next job: never aborted, and
 * no listener left on it by the job's code (`onabort` counts as one). Job code that keeps work
 * going after `perform` settled with a listener on its signal therefore never shares it; work
 * that only reads `signal.aborted` after its job ended may see a later job's abort.
 */
function untouched(attempt: AbortController): boolean {
  return !attempt.signal.aborted && getEventListeners(attempt.signal, 'abort').length === 0;
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

/** Runs one claimed job and turns what happened into its outcome (`queue/outcome.ts`). Never rejects. */
async function attemptJob(
  job: ClaimedJob,
  registry: WorkerRegistry,
  runner: JobRunner,
  logger: Logger,
  attempt: AbortController,
): Promise<JobOutcome> {
  const worker = registry.get(job.name);
  try {
    if (!worker) throw new Error(`No worker is registered under the name '${job.name}'.`);
    const args = worker.argsSchema ? await validateArgs(worker.argsSchema, job.task_data, job.name) : job.task_data;
    const prepared = runner.prepare(worker, job);
    const perform = typeof prepared === 'function' ? prepared : await prepared;
    const work = perform(args, attempt.signal);
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
