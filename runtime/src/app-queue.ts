import type { StandardSchemaV1 } from '@standard-schema/spec';
import { monotonicFactory } from 'ulid';
import { DEFAULT_MAX_ARGS_BYTES, toJsonArgs } from './args.js';
import { validateArgs } from './args-schema.js';
import type { WorkerMode } from './config/schema.js';
import { type Duration, parseDuration } from './duration.js';
import { LocoError, RegistryError } from './errors.js';
import { type JobEventHandler, type JobEventName, JobEvents } from './events.js';
import type { EnqueuedJob, JobJournal } from './job-journal.js';
import { checkedJob } from './job-limits.js';
import type { JobRecord, NewJob, OnConflict, PauseTarget, QueueBackend } from './queue/backend.js';
import { type RegisteredWorker, WorkerRegistry } from './registry.js';
import { traceEnqueue } from './tracing.js';
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

/** Options of `performLaterMany`: the same for every job of the call. */
export interface EnqueueManyOptions {
  /** Run no earlier than this time. */
  runAt?: Date | number;
  /** Run no earlier than this long from now. */
  delay?: Duration;
  /** After each success, run again this long later (a recurring job). */
  interval?: Duration;
  /** Higher is claimed first among due jobs. (Default: the worker's `priority()`, 0) */
  priority?: number;
  /**
   * When a job's key matches a queued job: `keep` it as it is and return its id, or `replace` its
   * args and run time (it keeps its id). (Default: keep)
   */
  onConflict?: OnConflict;
  /**
   * Write the jobs inside the app's open transaction, so they appear with its commit and vanish
   * with its rollback: a `pg` client inside `BEGIN` (Postgres queue), or the app's
   * `better-sqlite3` Database inside `db.transaction()` on the queue's own file (SQLite queue).
   */
  client?: unknown;
}

/** Options of `performLater`. */
export interface EnqueueOptions extends EnqueueManyOptions {
  /**
   * The job's unique key: while a job of this worker with the same key is queued, this enqueue
   * returns that job's id instead of adding one (see `onConflict`). (Default: the worker's
   * `uniqueKey(args)`, usually none)
   */
  key?: string;
}

/** What an enqueue did with one job. */
export interface Enqueued {
  /** The job's id (the matched job's when its key matched); `undefined` when run inline (ForegroundBlocking). */
  id: string | undefined;
  /** False when its key matched a queued job instead of adding one. */
  added: boolean;
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

/** What a job takes from its worker when enqueued. */
interface JobDefaults {
  tags: string[];
  queue: string | null;
  maxAttempts: number;
  priority: number;
}

/**
 * The app's queue: its workers (`register`) and the way jobs get to them, by mode.
 * Handed to `connectWorkers` and available as `ctx.queue`.
 */
export class Queue {
  /** The registered workers; the worker loop takes jobs for these names only. */
  readonly registry = new WorkerRegistry();
  /** The lifecycle events of the jobs this process runs (see `on`). */
  readonly events = new JobEvents();

  /**
   * Set by `bootTest`: records every job enqueued and run inline, and in its `jobs: 'queue'`
   * mode keeps ForegroundBlocking jobs back until the test runs them. Apps leave it unset.
   */
  journal: JobJournal | undefined;

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

  /**
   * Calls `handler` when a job this process runs completes (`completed`), fails for good
   * (`failed`), fails and will run again (`retrying`), or when this process finds jobs whose lease
   * ran out (`stalled`). Worker processes and the `BackgroundAsync` pool emit them; inline
   * (`ForegroundBlocking`) runs do not. A handler that throws or rejects is logged and never stops
   * the worker. Returns a function that removes the handler.
   */
  on<E extends JobEventName>(event: E, handler: JobEventHandler<E>): () => void {
    return this.events.on(event, handler);
  }

  /** Removes a handler given to `on`. */
  off<E extends JobEventName>(event: E, handler: JobEventHandler<E>): void {
    this.events.off(event, handler);
  }

  /** The names of all registered workers. */
  names(): string[] {
    return this.registry.names();
  }

  /** Runs or enqueues one job of `type` according to the mode; see `BackgroundWorker.performLater`. */
  async performLater(type: WorkerClass, args: unknown, options: EnqueueOptions = {}): Promise<string | undefined> {
    const { key, ...rest } = options;
    const [result] = await this.run(type, [args], rest, key === undefined ? undefined : [key]);
    return result.id;
  }

  /** Runs or enqueues many jobs of `type`; in a store, all of them or none. */
  async performLaterMany(
    type: WorkerClass,
    argsList: unknown[],
    options: EnqueueManyOptions = {},
  ): Promise<Enqueued[]> {
    return this.run(type, argsList, options, undefined);
  }

  /** One job by id, as stored (status, attempts, last error, times, tags, queue, priority, key), or `null`. */
  async job(id: string): Promise<JobRecord | null> {
    return this.store().get(id);
  }

  /**
   * Puts failed jobs (and cancelled ones, with `cancelled: true`) back in the queue, due now, with
   * their attempts reset and their args kept. Returns how many.
   */
  async retry(ids: string[], options: { cancelled?: boolean } = {}): Promise<number> {
    if (ids.length === 0) return 0;
    return this.store().retry({ ids, statuses: options.cancelled ? ['failed', 'cancelled'] : ['failed'] });
  }

  /**
   * Stops every process from claiming a worker's jobs (`pause('SyncInvoicesWorker')`) or a named
   * queue's (`pause({ queue: 'mailers' })`) until `resume`: running jobs finish, enqueues still
   * succeed. Stored, so it holds across restarts. Returns false if it was paused already.
   */
  async pause(target: string | { queue: string }): Promise<boolean> {
    return this.store().pause(pauseTarget(target));
  }

  /** Lets a paused worker's or queue's jobs be claimed again; returns false if it was not paused. */
  async resume(target: string | { queue: string }): Promise<boolean> {
    return this.store().resume(pauseTarget(target));
  }

  /** What is paused. */
  async paused(): Promise<PauseTarget[]> {
    return this.store().paused();
  }

  private async run(
    type: WorkerClass,
    argsList: unknown[],
    options: EnqueueManyOptions,
    keys: string[] | undefined,
  ): Promise<Enqueued[]> {
    const name = type.className();
    const registered = this.registry.get(name);
    if (this.mode === 'ForegroundBlocking') {
      const worker = this.registered(
        type,
        'ForegroundBlocking runs jobs inline through the registry, as a worker would',
      );
      const parsed = await Promise.all(argsList.map((args) => this.checkedArgs(worker.argsSchema, name, args)));
      const journal = this.journal;
      // Outside tests a job run inline has no id; a test's journal names each job, held or run.
      const jobs = parsed.map(({ json, value }) => ({ name, args: json, value, id: journal ? ulid() : undefined }));
      journal?.enqueued.push(...jobs.map(({ value: _, ...job }) => job));
      if (journal?.hold) {
        journal.held.push(...jobs.map(({ id, ...job }) => ({ ...job, id: id as string })));
      } else {
        for (const { value, ...job } of jobs) await this.performInline(worker, job, value);
      }
      return jobs.map(({ id }) => ({ id, added: true }));
    }
    if (this.mode === 'BackgroundAsync') {
      this.registered(type, 'in BackgroundAsync mode jobs run in this process only, so nothing would run it');
    }
    const defaults: JobDefaults = registered
      ? {
          tags: registered.tags,
          queue: registered.queue,
          maxAttempts: registered.retry.attempts,
          priority: registered.priority,
        }
      : {
          tags: type.tags(),
          queue: type.queue() ?? null,
          maxAttempts: type.retry().attempts,
          priority: type.priority(),
        };
    const schema = registered ? registered.argsSchema : type.argsSchema;
    const jobs: NewJob[] = [];
    for (const [i, args] of argsList.entries()) {
      const json = toJsonArgs(args, name, this.maxArgsBytes);
      // The store keeps the JSON; the schema only has to accept it. Without one nothing here awaits.
      if (schema) await validateArgs(schema, json, name);
      const key = keys?.[i] ?? (registered ? registered.uniqueKey(json) : type.uniqueKey(json as never));
      const concurrencyKey = registered ? registered.concurrencyKey(json) : type.concurrencyKey(json as never);
      jobs.push(newJob(name, json, { ...options, key, concurrencyKey }, defaults));
    }
    const enqueued = await this.insert(jobs, options);
    this.journal?.enqueued.push(...jobs.map((job, i) => ({ name, args: job.task_data, id: enqueued[i].id })));
    return enqueued;
  }

  /**
   * Runs one job inline through its registered worker, as ForegroundBlocking does, recording how
   * it ended in the test journal; the job's error is thrown. For `bootTest`'s `performEnqueued`.
   */
  async performInline(worker: RegisteredWorker, job: EnqueuedJob, value: unknown): Promise<void> {
    try {
      await worker.instance.perform(value, new AbortController().signal);
    } catch (error) {
      this.journal?.performed.push({ ...job, outcome: 'failed', error });
      throw error;
    }
    this.journal?.performed.push({ ...job, outcome: 'completed' });
  }

  /**
   * Enqueues jobs by worker name, defaults taken from the registered worker where there is one.
   * For operator tools; app code uses `performLater`.
   */
  async enqueueByName(name: string, argsList: unknown[], options: EnqueueByNameOptions = {}): Promise<Enqueued[]> {
    const jobs = await Promise.all(argsList.map((args) => this.jobByName(name, args, options)));
    return this.insert(jobs, options);
  }

  /**
   * A new job record for `name`, ready for `insert`: what `options` leaves out comes from the
   * registered worker (`tags()`, `queue()`, `retry().attempts`, `priority()`, `uniqueKey()`), as
   * for a job enqueued in code. Args are checked against the worker's `argsSchema`.
   */
  async jobByName(
    name: string,
    args: unknown,
    options: EnqueueByNameOptions & { createdAt?: number; restore?: NewJob['restore'] } = {},
  ): Promise<NewJob> {
    const worker = this.registry.get(name);
    const { json } = await this.checkedArgs(worker?.argsSchema, name, args);
    const job = newJob(
      name,
      json,
      { ...options, key: options.key ?? worker?.uniqueKey(json), concurrencyKey: worker?.concurrencyKey(json) },
      {
        tags: options.tags ?? worker?.tags ?? [],
        queue: options.queue !== undefined ? options.queue : (worker?.queue ?? null),
        maxAttempts: options.maxAttempts ?? worker?.retry.attempts ?? 1,
        priority: worker?.priority ?? 0,
      },
    );
    return { ...job, created_at: options.createdAt, restore: options.restore };
  }

  /** Adds prepared jobs to the store, all or none. */
  async insert(jobs: NewJob[], options: Pick<EnqueueManyOptions, 'onConflict' | 'client'> = {}): Promise<Enqueued[]> {
    const backend = this.store();
    if (jobs.length === 0) return [];
    if (options.client !== undefined && !backend.capabilities.transactions) {
      throw new LocoError(
        `Enqueue in a transaction: the ${backend.kind} queue cannot write inside an app transaction; only the ` +
          'Postgres and SQLite queues can. Enqueue after your commit, or without client.',
      );
    }
    return traceEnqueue(jobs, (traced) =>
      backend.enqueue(traced, { onConflict: options.onConflict, transaction: options.client }),
    );
  }

  /** The store jobs go to, or an error saying this mode has none. */
  private store(): QueueBackend {
    if (!this.backend) {
      throw new LocoError(
        `workers.mode is ${this.mode}, which has no queue to store jobs in. ` +
          'Set workers.mode: BackgroundQueue and configure queue: (kind and uri) in the config file.',
      );
    }
    return this.backend;
  }

  /**
   * Args as JSON within `maxArgsBytes` (what is stored) and, through the worker's `argsSchema`
   * when it has one, as `perform` takes them.
   */
  private async checkedArgs(
    schema: StandardSchemaV1 | undefined,
    name: string,
    args: unknown,
  ): Promise<{ json: unknown; value: unknown }> {
    const json = toJsonArgs(args, name, this.maxArgsBytes);
    return { json, value: schema ? await validateArgs(schema, json, name) : json };
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

function pauseTarget(target: string | { queue: string }): PauseTarget {
  return typeof target === 'string' ? { kind: 'worker', name: target } : { kind: 'queue', name: target.queue };
}

function newJob(
  name: string,
  args: unknown,
  options: EnqueueManyOptions & { key?: string; concurrencyKey?: string },
  defaults: JobDefaults,
): NewJob {
  return checkedJob({
    id: ulid(),
    name,
    task_data: args,
    run_at: runAt(options),
    interval: options.interval === undefined ? null : positive(options.interval, 'interval'),
    tags: defaults.tags,
    queue: defaults.queue,
    priority: options.priority ?? defaults.priority,
    key: options.key ?? null,
    concurrency_key: options.concurrencyKey ?? null,
    max_attempts: Math.max(1, defaults.maxAttempts),
  });
}

function runAt(options: EnqueueManyOptions): number {
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
