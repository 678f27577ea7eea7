import { monotonicFactory } from 'ulid';
import { DEFAULT_MAX_ARGS_BYTES, toJsonArgs } from './args.js';
import type { WorkerMode } from './config/schema.js';
import { type Duration, parseDuration } from './duration.js';
import { LocoError, RegistryError } from './errors.js';
import { checkedJob } from './job-limits.js';
import type { NewJob, QueueBackend } from './queue/backend.js';
import { type RegisteredWorker, WorkerRegistry } from './registry.js';
import type { WorkerClass, WorkerInstance } from './worker-class.js';

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

/** Options of `performLater`. */
export interface EnqueueOptions {
  /** Run no earlier than this time. */
  runAt?: Date | number;
  /** Run no earlier than this long from now. */
  delay?: Duration;
  /** After each success, run again this long later (a recurring job). */
  interval?: Duration;
}

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
 * The app's queue: its workers (`register`) and the way jobs get to them, by mode.
 * Handed to `connectWorkers` and available as `ctx.queue`.
 */
export class Queue {
  /** The registered workers; the worker loop takes jobs for these names only. */
  readonly registry = new WorkerRegistry();

  constructor(
    /** How `performLater` runs jobs. */
    readonly mode: WorkerMode,
    /** The store: the configured one in `BackgroundQueue`, the in-process one in `BackgroundAsync`. */
    readonly backend: QueueBackend | undefined,
    /** Largest args of one job, in bytes of JSON (`queue.max_args_bytes`). */
    readonly maxArgsBytes = DEFAULT_MAX_ARGS_BYTES,
  ) {}

  /** Registers a worker instance under its class's `className()`. A second worker of the same name is an error. */
  register(worker: WorkerInstance): void {
    this.registry.register(worker);
  }

  /** The names of all registered workers. */
  names(): string[] {
    return this.registry.names();
  }

  /** Runs or enqueues one job of `type` according to the mode; see `BackgroundWorker.performLater`. */
  async performLater(type: WorkerClass, args: unknown, options: EnqueueOptions = {}): Promise<string | undefined> {
    const [id] = await this.performLaterMany(type, [args], options);
    return id;
  }

  /** Runs or enqueues many jobs of `type`; in a store, all of them or none. */
  async performLaterMany(
    type: WorkerClass,
    argsList: unknown[],
    options: EnqueueOptions = {},
  ): Promise<Array<string | undefined>> {
    const name = type.className();
    const data = argsList.map((args) => toJsonArgs(args, name, this.maxArgsBytes));
    if (this.mode === 'ForegroundBlocking') {
      const worker = this.registered(
        type,
        'ForegroundBlocking runs jobs inline through the registry, as a worker would',
      );
      for (const args of data) await worker.instance.perform(args, new AbortController().signal);
      return data.map(() => undefined);
    }
    if (this.mode === 'BackgroundAsync') {
      this.registered(type, 'in BackgroundAsync mode jobs run in this process only, so nothing would run it');
    }
    const defaults = this.registry.get(name) ?? {
      tags: type.tags(),
      queue: type.queue() ?? null,
      retry: type.retry(),
    };
    return this.insert(
      data.map((args) =>
        newJob(name, args, options, {
          tags: defaults.tags,
          queue: defaults.queue,
          maxAttempts: defaults.retry.attempts,
        }),
      ),
    );
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
    const worker = this.registry.get(name);
    const job = newJob(name, toJsonArgs(args, name, this.maxArgsBytes), options, {
      tags: options.tags ?? worker?.tags ?? [],
      queue: options.queue !== undefined ? options.queue : (worker?.queue ?? null),
      maxAttempts: options.maxAttempts ?? worker?.retry.attempts ?? 1,
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

  /** The registered worker of `type`, or an error saying why it must be registered and how. */
  private registered(type: WorkerClass, why: string): RegisteredWorker {
    const worker = this.registry.get(type.className());
    if (!worker) {
      throw new RegistryError(
        `${type.className()} is not registered, and ${why}. Register it in connectWorkers in src/app.ts: ` +
          `queue.register(${type.name}.build(ctx)). Nothing was run or enqueued.`,
      );
    }
    return worker;
  }
}

function newJob(
  name: string,
  args: unknown,
  options: EnqueueOptions,
  defaults: { tags: string[]; queue: string | null; maxAttempts: number },
): NewJob {
  return checkedJob({
    id: ulid(),
    name,
    task_data: args,
    run_at: runAt(options),
    interval: options.interval === undefined ? null : positive(options.interval, 'interval'),
    tags: defaults.tags,
    queue: defaults.queue,
    max_attempts: Math.max(1, defaults.maxAttempts),
  });
}

function runAt(options: EnqueueOptions): number {
  if (options.runAt !== undefined) {
    const time = options.runAt instanceof Date ? options.runAt.getTime() : options.runAt;
    if (!Number.isFinite(time)) {
      throw new RangeError(`runAt: expected a Date or ms since the epoch, found ${String(options.runAt)}.`);
    }
    return time;
  }
  return Date.now() + (options.delay === undefined ? 0 : parseDuration(options.delay, 'delay'));
}

function positive(value: Duration, what: string): number {
  const ms = parseDuration(value, what);
  if (ms <= 0) throw new RangeError(`${what}: must be longer than 0, found ${JSON.stringify(value)}.`);
  return ms;
}
