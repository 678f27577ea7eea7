import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Enqueued, EnqueueManyOptions, EnqueueOptions } from './app-queue.js';
import type { AppContext } from './context.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import type { InputOf, RateLimit, WorkerClass, WorkerInstance } from './worker-class.js';

/**
 * The base of every worker. Subclass it, implement `perform`, register it in the app's
 * `connectWorkers` with `queue.register(MyWorker.build(ctx))`, and enqueue with
 * `MyWorker.performLater(ctx, args)`.
 */
export abstract class BackgroundWorker<A = unknown> implements WorkerInstance<A> {
  constructor(readonly ctx: AppContext) {}

  /** Creates an instance bound to the app context. */
  static build<W extends BackgroundWorker<unknown>>(this: new (ctx: AppContext) => W, ctx: AppContext): W {
    return new this(ctx);
  }

  /**
   * Runs the job. A thrown error fails this attempt; it is retried while attempts remain.
   * `signal` aborts when the attempt passes `timeoutMs()`: long jobs should pass it on (to
   * `fetch`, streams, timers) or check it, since JavaScript cannot stop a running function.
   */
  abstract perform(args: A, signal: AbortSignal): Promise<void>;

  /** A named queue for this worker's jobs. (Default: none, the default queue) */
  static queue(): string | undefined {
    return undefined;
  }

  /** Tags given to this worker's jobs; only worker processes started with a matching tag take them. (Default: []) */
  static tags(): string[] {
    return [];
  }

  /** The name jobs are stored under: the class name in UpperCamelCase (`download_worker` -> `DownloadWorker`). */
  static className(): string {
    return upperCamelCase(this.name);
  }

  /** Retries on failure. (Default: `DEFAULT_RETRY`, 3 attempts from 1 s doubling) */
  static retry(): RetryPolicy {
    return DEFAULT_RETRY;
  }

  /**
   * Fails an attempt that runs longer than this many ms: its `signal` aborts, the worker keeps
   * its slot (and the job its lease) for up to the same time again while `perform` winds down,
   * then the failure is recorded and the job retried. (Default: none)
   */
  static timeoutMs(): number | undefined {
    return undefined;
  }

  /**
   * A Standard Schema (zod, valibot, arktype and others implement it) that args must pass:
   * `performLater`, `performLaterMany`, `loco jobs enqueue` and `jobs import` refuse args it
   * rejects, with its issues, before anything is written; `perform` receives its output.
   * (Default: none; args must still be JSON)
   */
  static argsSchema?: StandardSchemaV1;

  /**
   * Among due jobs a worker may take, higher priority is claimed first, then the earlier run
   * time, then enqueue order. A whole number from -32768 to 32767; `performLater(..., { priority })`
   * sets it per job. (Default: 0)
   */
  static priority(): number {
    return 0;
  }

  /**
   * The unique key of a job with these args, or `undefined` for none: while a job of this worker
   * with the same key is queued, enqueueing another returns the queued one's id instead of
   * adding a job (see `EnqueueOptions.onConflict`). `performLater(..., { key })` sets it per job.
   * (Default: no key)
   */
  static uniqueKey(_args: unknown): string | undefined {
    return undefined;
  }

  /**
   * At most this many of this worker's jobs run at once across every process sharing the store
   * (per `concurrencyKey(args)` when that gives keys), whatever each process's `num_workers`.
   * A process killed mid-job holds its slot only until the job's lease runs out. (Default: no limit)
   */
  static concurrency(): number | undefined {
    return undefined;
  }

  /**
   * With `concurrency()`, the limit holds per key: at most N jobs of one key at once, while jobs
   * of other keys go on (a tenant, an account, an API host). (Default: one limit for the worker)
   */
  static concurrencyKey(_args: unknown): string | undefined {
    return undefined;
  }

  /**
   * At most `max` of this worker's jobs start in any window of `perMs` ms (a sliding window),
   * across every process. Jobs over the limit stay queued and are claimed when the window has
   * room; idle workers sleep until then. (Default: no limit)
   */
  static rateLimit(): RateLimit | undefined {
    return undefined;
  }

  /**
   * Runs `perform` in a worker thread of the process's sandbox pool (node:worker_threads, one
   * thread per `num_workers` slot at most, reused) instead of the main thread, so CPU-bound code
   * cannot block the worker loop: heartbeats, other jobs and signals go on, and `timeoutMs()`
   * terminates the thread (the attempt fails as timed out and is retried as usual). The class
   * must also declare `static readonly moduleUrl = import.meta.url` and be exported from that
   * module, which the thread imports. Inside the thread, `this.ctx` has `environment`, `config`,
   * `root`, `appName`, a `logger` whose lines go to the process's logger, and a `queue` offering
   * `performLater` and `performLaterMany` only (run by the main thread); args arrive as a
   * structured clone. `ForegroundBlocking` runs `perform` inline, without a thread. (Default: false)
   */
  static sandbox(): boolean {
    return false;
  }

  /**
   * The URL of the module that exports this class: `static readonly moduleUrl = import.meta.url`.
   * Required with `sandbox()`, whose thread imports it. (Default: none)
   */
  static readonly moduleUrl?: string;

  /**
   * Enqueues a job according to `workers.mode`: persisted (`BackgroundQueue`, returns the job id),
   * run inline and awaited (`ForegroundBlocking`, errors reach the caller), or run on the
   * in-process pool (`BackgroundAsync`, returns the in-process id).
   */
  static performLater<T extends WorkerClass>(
    this: T,
    ctx: AppContext,
    args: InputOf<T>,
    options?: EnqueueOptions,
  ): Promise<string | undefined> {
    return ctx.queue.performLater(this, args, options);
  }

  /**
   * Enqueues many jobs of this worker at once, atomically where the store allows. Each job's key
   * comes from `uniqueKey(args)`. Returns, per job, its id and whether it was added (false when
   * its key matched a queued job, whose id it is).
   */
  static performLaterMany<T extends WorkerClass>(
    this: T,
    ctx: AppContext,
    argsList: InputOf<T>[],
    options?: EnqueueManyOptions,
  ): Promise<Enqueued[]> {
    return ctx.queue.performLaterMany(this, argsList, options);
  }
}

/** `download_worker`, `downloadWorker`, `Download-Worker` -> `DownloadWorker`. */
export function upperCamelCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}
