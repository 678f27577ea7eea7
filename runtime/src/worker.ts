import type { AppContext } from './context.js';

/** How a failed job is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included; 1 means no retry. (Default: 3) */
  attempts: number;
  /** Delay before the first retry in ms; doubled for each further one. (Default: 1000) */
  backoffMs: number;
  /** Longest delay between attempts in ms. (Default: 3_600_000) */
  maxBackoffMs: number;
}

/** The retry policy of a worker that does not declare one. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 1000, maxBackoffMs: 3_600_000 };

/** A length of time: milliseconds, or text such as `500ms`, `30s`, `5m`, `2h`, `1d`. */
export type Duration = number | string;

/** Options of `performLater`. */
export interface EnqueueOptions {
  /** Run no earlier than this time. */
  runAt?: Date | number;
  /** Run no earlier than this long from now. */
  delay?: Duration;
  /** After each success, run again this long later (a recurring job). */
  interval?: Duration;
}

/** The static side of a worker class: what the queue needs to know about it. */
export interface WorkerClass<W extends BackgroundWorker<any> = BackgroundWorker<any>> {
  new (ctx: AppContext): W;
  className(): string;
  queue(): string | undefined;
  tags(): string[];
  retry(): RetryPolicy;
  timeoutMs(): number | undefined;
}

/** The args type of a worker instance type. */
export type ArgsOf<W> = W extends BackgroundWorker<infer A> ? A : never;

/**
 * The base of every worker. Subclass it, implement `perform`, register it in the app's
 * `connectWorkers` with `queue.register(MyWorker.build(ctx))`, and enqueue with
 * `MyWorker.performLater(ctx, args)`.
 */
export abstract class BackgroundWorker<A = unknown> {
  constructor(readonly ctx: AppContext) {}

  /** Creates an instance bound to the app context. */
  static build<W extends BackgroundWorker<any>>(this: new (ctx: AppContext) => W, ctx: AppContext): W {
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
   * Enqueues a job according to `workers.mode`: persisted (`BackgroundQueue`, returns the job id),
   * run inline and awaited (`ForegroundBlocking`, errors reach the caller), or run on the
   * in-process pool (`BackgroundAsync`, returns the in-process id).
   */
  static performLater<W extends BackgroundWorker<any>>(
    this: WorkerClass<W>,
    ctx: AppContext,
    args: ArgsOf<W>,
    options?: EnqueueOptions,
  ): Promise<string | undefined> {
    return ctx.queue.performLater(this, ctx, args, options);
  }

  /** Enqueues many jobs of this worker at once, atomically where the store allows; returns their ids. */
  static performLaterMany<W extends BackgroundWorker<any>>(
    this: WorkerClass<W>,
    ctx: AppContext,
    argsList: ArgsOf<W>[],
    options?: EnqueueOptions,
  ): Promise<Array<string | undefined>> {
    return ctx.queue.performLaterMany(this, ctx, argsList, options);
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

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `30s`, `5m`, `2h`, `1d` or a number of ms. Throws naming the value otherwise. */
export function parseDuration(value: Duration, what = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else {
    const match = DURATION.exec(value.trim());
    if (match) return Number(match[1]) * UNIT_MS[match[2]];
  }
  throw new RangeError(
    `${what}: expected milliseconds >= 0 or a duration such as 500ms, 30s, 5m, 2h, 1d; found ${JSON.stringify(value)}.`,
  );
}

/** The delay before retry number `attempt` (1-based): exponential, capped, with equal jitter. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const exponential = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
