import { monotonicFactory } from 'ulid';
import { toJsonArgs } from './args.js';
import type { WorkerMode } from './config/schema.js';
import type { AppContext } from './context.js';
import { LocoError, RegistryError } from './errors.js';
import type { NewJob, QueueBackend } from './queue/backend.js';
import {
  parseDuration,
  type BackgroundWorker,
  type Duration,
  type EnqueueOptions,
  type WorkerClass,
} from './worker.js';

/**
 * Random bytes for ids, drawn from the system source 4 KiB at a time: ulid's default source asks
 * for one byte per call, which costs more than the enqueue it serves.
 */
const randomPool = new Uint8Array(4096);
let randomOffset = randomPool.length;
function pooledRandom(): number {
  if (randomOffset >= randomPool.length) {
    crypto.getRandomValues(randomPool);
    randomOffset = 0;
  }
  return randomPool[randomOffset++] / 256;
}

/** Ids that sort in enqueue order, even within one millisecond. */
const ulid = monotonicFactory(pooledRandom);

/** Low-level enqueue options, for jobs enqueued by name (`loco jobs enqueue`, imports). */
export interface EnqueueByNameOptions extends EnqueueOptions {
  /** Tags of the job. (Default: the registered worker's `tags()`) */
  tags?: string[];
  /** Named queue. (Default: the registered worker's `queue()`) */
  queue?: string | null;
  /** Attempts allowed. (Default: the registered worker's `retry().attempts`) */
  maxAttempts?: number;
}

/**
 * The app's queue: the registry of workers (`register`) and the way jobs get to them, by mode.
 * Handed to `connectWorkers` and available as `ctx.queue`.
 */
export class Queue {
  private readonly workers = new Map<string, BackgroundWorker<any>>();

  constructor(
    /** How `performLater` runs jobs. */
    readonly mode: WorkerMode,
    /** The store: the configured one in `BackgroundQueue`, the in-process one in `BackgroundAsync`. */
    readonly backend: QueueBackend | undefined,
  ) {}

  /** Registers a worker instance under its class's `className()`. A second worker of the same name is an error. */
  register(worker: BackgroundWorker<any>): void {
    const type = worker.constructor as WorkerClass;
    const name = type.className();
    checkWorkerClass(type);
    const existing = this.workers.get(name);
    if (existing) {
      throw new RegistryError(
        `Two workers are registered under the name '${name}': ${existing.constructor.name} and ${type.name}. ` +
          `Register each worker once, or give one of them another name by overriding static className().`,
      );
    }
    this.workers.set(name, worker);
  }

  /** The registered worker for a job name. */
  worker(name: string): BackgroundWorker<any> | undefined {
    return this.workers.get(name);
  }

  /** The names of all registered workers. */
  names(): string[] {
    return [...this.workers.keys()];
  }

  /** Runs or enqueues one job of `type` according to the mode; see `BackgroundWorker.performLater`. */
  async performLater<W extends BackgroundWorker<any>>(
    type: WorkerClass<W>,
    ctx: AppContext,
    args: unknown,
    options: EnqueueOptions = {},
  ): Promise<string | undefined> {
    const [id] = await this.performLaterMany(type, ctx, [args], options);
    return id;
  }

  /** Runs or enqueues many jobs of `type`; in a store, all of them or none. */
  async performLaterMany<W extends BackgroundWorker<any>>(
    type: WorkerClass<W>,
    ctx: AppContext,
    argsList: unknown[],
    options: EnqueueOptions = {},
  ): Promise<Array<string | undefined>> {
    const name = type.className();
    const data = argsList.map((args) => toJsonArgs(args, name));
    if (this.mode === 'BackgroundAsync' && !this.workers.has(name)) {
      throw new RegistryError(
        `${name} is not registered, and in BackgroundAsync mode jobs run in this process only, so nothing would ` +
          `run it. Register it in connectWorkers: queue.register(${type.name}.build(ctx)). Nothing was enqueued.`,
      );
    }
    if (this.mode === 'ForegroundBlocking') {
      const worker = this.workers.get(name) ?? new type(ctx);
      for (const args of data) await worker.perform(args, new AbortController().signal);
      return data.map(() => undefined);
    }
    const defaults = { tags: type.tags(), queue: type.queue() ?? null, maxAttempts: type.retry().attempts };
    return this.insert(data.map((args) => newJob(name, args, options, defaults)));
  }

  /**
   * Enqueues jobs by worker name, defaults taken from the registered worker where there is one.
   * For operator tools; app code uses `performLater`.
   */
  async enqueueByName(name: string, argsList: unknown[], options: EnqueueByNameOptions = {}): Promise<string[]> {
    return this.insert(argsList.map((args) => this.jobByName(name, args, options)));
  }

  /**
   * A new job record for `name`, ready for `insert`: what `options` leaves out comes from the
   * registered worker (`tags()`, `queue()`, `retry().attempts`), as for a job enqueued in code.
   */
  jobByName(name: string, args: unknown, options: EnqueueByNameOptions & { createdAt?: number } = {}): NewJob {
    const type = this.workers.get(name)?.constructor as WorkerClass | undefined;
    const job = newJob(name, toJsonArgs(args, name), options, {
      tags: options.tags ?? type?.tags() ?? [],
      queue: options.queue !== undefined ? options.queue : (type?.queue() ?? null),
      maxAttempts: options.maxAttempts ?? type?.retry().attempts ?? 1,
    });
    return options.createdAt === undefined ? job : { ...job, created_at: options.createdAt };
  }

  /** Adds prepared jobs to the store. */
  async insert(jobs: NewJob[]): Promise<string[]> {
    if (!this.backend) {
      throw new LocoError(
        `workers.mode is ${this.mode}, which has no queue to store jobs in. ` +
          'Set workers.mode: BackgroundQueue and configure queue: (kind and uri) in the config file.',
      );
    }
    if (jobs.length === 0) return [];
    return this.backend.enqueue(jobs);
  }
}

function newJob(
  name: string,
  args: unknown,
  options: EnqueueOptions,
  defaults: { tags: string[]; queue: string | null; maxAttempts: number },
): NewJob {
  return {
    id: ulid(),
    name,
    task_data: args,
    run_at: runAt(options),
    interval: options.interval === undefined ? null : positive(options.interval, 'interval'),
    tags: defaults.tags,
    queue: defaults.queue,
    max_attempts: Math.max(1, defaults.maxAttempts),
  };
}

function runAt(options: EnqueueOptions): number {
  if (options.runAt !== undefined) {
    const time = options.runAt instanceof Date ? options.runAt.getTime() : options.runAt;
    if (!Number.isFinite(time))
      throw new RangeError(`runAt: expected a Date or ms since the epoch, found ${String(options.runAt)}.`);
    return time;
  }
  return Date.now() + (options.delay === undefined ? 0 : parseDuration(options.delay, 'delay'));
}

function positive(value: Duration, what: string): number {
  const ms = parseDuration(value, what);
  if (ms <= 0) throw new RangeError(`${what}: must be longer than 0, found ${JSON.stringify(value)}.`);
  return ms;
}

/** Refuses a worker class whose `retry()` or `timeoutMs()` would break the loop later, naming the fix. */
function checkWorkerClass(type: WorkerClass): void {
  const retry = type.retry();
  const whole = (value: unknown, min: number) => Number.isInteger(value) && (value as number) >= min;
  const ms = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0;
  if (!retry || !whole(retry.attempts, 1) || !ms(retry.backoffMs) || !ms(retry.maxBackoffMs)) {
    throw new RegistryError(
      `${type.name}.retry() returned ${JSON.stringify(retry)}; expected { attempts: a whole number >= 1, ` +
        'backoffMs: ms >= 0, maxBackoffMs: ms >= 0 }, for example { attempts: 5, backoffMs: 1000, maxBackoffMs: 60000 }.',
    );
  }
  const timeout = type.timeoutMs();
  if (timeout !== undefined && !(ms(timeout) && timeout > 0)) {
    throw new RegistryError(
      `${type.name}.timeoutMs() returned ${String(timeout)}; expected ms > 0, or undefined for no timeout.`,
    );
  }
}
