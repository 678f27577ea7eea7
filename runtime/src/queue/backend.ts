/**
 * The contract every queue backend implements (SQLite, Postgres, Redis, in-process).
 *
 * The worker loop (`worker-loop.ts`) and the `loco jobs` commands talk to this interface only;
 * backends differ by their `capabilities`, never by `kind` checks in shared code.
 */
import { LocoError } from '../errors.js';
import type { Logger } from '../logger.js';

/** Every state a job can be in. */
export const JOB_STATUSES = ['queued', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A job as stored. Field names follow Loco's `jobs dump` where Loco has one. */
export interface JobRecord {
  /** ULID, unique across backends. */
  id: string;
  /** The worker's class name (`BackgroundWorker.className()`). */
  name: string;
  /** The args, as JSON-compatible data. */
  task_data: unknown;
  status: JobStatus;
  /** When the job may run next (ms since the epoch). */
  run_at: number;
  /** Re-queue period after a success, in ms; `null` for a one-off job. */
  interval: number | null;
  /** From the worker's `tags()`; matched exactly and case-sensitively. */
  tags: string[];
  /** Named queue from the worker's `queue()`, `null` for the default queue. */
  queue: string | null;
  /** Higher is claimed first among due jobs; then `run_at`, then enqueue order. */
  priority: number;
  /**
   * The unique key: while a job with this key and name is `queued` (or `processing`), enqueueing
   * another with the same key matches it instead of adding one. `null` for none.
   */
  key: string | null;
  /** How many times the job has been claimed. */
  attempts: number;
  /** Attempts allowed before the job ends `failed`. */
  max_attempts: number;
  /** The last error message (with stack), kept after a retry or final failure. */
  last_error: string | null;
  /** While `processing`: when the lease runs out unless a heartbeat extends it (ms since the epoch). */
  lease_until: number | null;
  /** ms since the epoch */
  created_at: number;
  /** ms since the epoch */
  updated_at: number;
  /**
   * The W3C trace context (`traceparent`) of the span that enqueued it, which its runs' spans link
   * to; `null` when no OpenTelemetry SDK was tracing the enqueue.
   */
  traceparent: string | null;
}

/** What `enqueue` needs; the backend fills in the rest. */
export interface NewJob {
  id: string;
  name: string;
  /** The args as JSON data; the store may keep this very object, so the caller hands over a copy of its own. */
  task_data: unknown;
  run_at: number;
  interval: number | null;
  tags: string[];
  queue: string | null;
  priority: number;
  key: string | null;
  /** The worker's `concurrencyKey(args)`: with a concurrency limit, the limit holds per key. `null` for none. */
  concurrency_key: string | null;
  max_attempts: number;
  /** The enqueue span's W3C `traceparent`. (Default: none) */
  traceparent?: string | null;
  /** Timestamps, when importing a dump that keeps them; otherwise now. */
  created_at?: number;
  /**
   * The state to restore, for `loco jobs import --keep-status`: a job comes back `queued` unless
   * given a finished status (`completed`, `failed`, `cancelled`), with these attempts, error and
   * update time. A `processing` job has no worker here, so it is restored `queued`.
   */
  restore?: { status: JobStatus; attempts: number; last_error: string | null; updated_at: number };
}

/** What to do when a job's unique key matches a queued job of the same name. */
export type OnConflict = 'keep' | 'replace';

/** Options of `enqueue`. */
export interface EnqueueRequest {
  /**
   * `keep` (default): a job whose key matches a queued job is not added; its id is the existing
   * job's. `replace`: the queued job takes the new job's args and run time, and keeps its id.
   * A key held by a `processing` job is taken from it by the new job either way, so a change
   * made after that job started is not lost.
   */
  onConflict?: OnConflict;
  /**
   * The app's open transaction to write in (a `pg` client for Postgres, the app's
   * `better-sqlite3` Database on the queue's file for SQLite): the jobs appear with its commit and
   * vanish with its rollback. Stores without `capabilities.transactions` refuse it.
   */
  transaction?: unknown;
}

/** What `enqueue` did with one job. */
export interface EnqueueResult {
  /** The job's id: the new job's, or the existing job's when the key matched. */
  id: string;
  /** True when a job was added; false when the key matched a queued job (kept or replaced). */
  added: boolean;
}

/** Which finished jobs `retry` puts back in the queue. */
export interface RetryQuery {
  /** `failed`, and `cancelled` when asked. */
  statuses: Array<'failed' | 'cancelled'>;
  /** Only these jobs. */
  ids?: string[];
  /** Only jobs of this name. */
  name?: string;
}

/** Which jobs a worker process may take. */
export interface ClaimFilter {
  /** Job names this process has registered workers for; other jobs are left alone. */
  names: string[];
  /**
   * The process's tags. Empty: only jobs without tags (rule 1 and 3).
   * Otherwise: only jobs with at least one of these tags (rule 2), matched exactly (rule 4).
   */
  tags: string[];
  /** Take jobs whatever their tags: only for the in-process pool of `BackgroundAsync`, the sole consumer there. */
  anyTag?: boolean;
}

/**
 * Flow control of one worker name, across every process sharing the store, applied inside the
 * claim so that a job over a limit is never claimed and handed back.
 */
export interface WorkerLimits {
  /**
   * At most this many of its jobs `processing` at once per `concurrency_key` (jobs without a key
   * share one: a worker without `concurrencyKey()` has one limit for all its jobs).
   */
  concurrency?: number;
  /** At most `max` job starts in any window of `perMs` (a sliding window). */
  rate?: { max: number; perMs: number };
}

/** What `pause` stops: the jobs of one worker name, or of one named queue. */
export interface PauseTarget {
  kind: 'worker' | 'queue';
  name: string;
}

export interface ClaimRequest extends ClaimFilter {
  /** At most this many jobs. */
  limit: number;
  /** Limits of the names that have them; names left out are unlimited. */
  limits?: Record<string, WorkerLimits>;
  /** The lease given to each claimed job, in ms. */
  leaseMs: number;
  /** Current time in ms; jobs with `run_at <= now` are due. */
  now: number;
  /**
   * Outcomes to record before claiming, as `finish` would. Stores that can (see
   * `BackendCapabilities.finishInClaim`) write them in the claim's own transaction; the others
   * record them, then claim. When the claim throws, the caller cannot tell whether they were
   * recorded and writes them again: fencing on `attempts` makes a second write of an outcome a
   * no-op.
   */
  finish?: JobOutcome[];
}

/** A claimed job: `attempts` already counts this attempt. */
export type ClaimedJob = Pick<
  JobRecord,
  'id' | 'name' | 'task_data' | 'interval' | 'tags' | 'queue' | 'priority' | 'attempts' | 'max_attempts' | 'traceparent'
>;

/**
 * What a job becomes once its attempt ends: the transition itself, worked out once by
 * `queue/outcome.ts` (completion, interval re-queue, retry with backoff, final failure), so that
 * a store only applies it.
 */
export interface JobOutcome {
  id: string;
  /** The job's name: a store that wakes workers when a limited name frees a slot reads it. */
  name: string;
  /**
   * The `attempts` the job was claimed with: a fencing token. An outcome is recorded only while the
   * job is still `processing` with this count, so a worker whose lease ran out (and whose job was
   * claimed again elsewhere) cannot overwrite the newer attempt.
   */
  attempts: number;
  /** The job's new status. */
  status: 'completed' | 'queued' | 'failed';
  /** When a `queued` job is due next (ms since the epoch); `null` for the other statuses. */
  runAt: number | null;
  /** The attempt count to store: the claimed one, or 0 when an interval job starts its next run. */
  nextAttempts: number;
  /** The `last_error` to store: text, `null` to clear it, or `undefined` to keep the one there is. */
  error: string | null | undefined;
}

/** Filter for listing and dumping jobs. */
export interface JobQuery {
  statuses?: JobStatus[];
  name?: string;
  /** Only jobs whose `updated_at` is older than this (ms since the epoch). */
  updatedBefore?: number;
  /** Newest first when set; default oldest first. */
  limit?: number;
}

/** Which jobs `remove` deletes. */
export interface RemoveQuery {
  statuses: JobStatus[];
  /** Only jobs whose `updated_at` is older than this (ms since the epoch). */
  updatedBefore?: number;
  /** Only these jobs. */
  ids?: string[];
}

/** What `reclaimSpace` did. */
export interface SpaceReport {
  /** Bytes the queue took before and after, or `null` where the store cannot tell them apart from other data. */
  before: number | null;
  after: number | null;
  /** What the store did and what it leaves to the server, in a sentence or two. */
  note: string;
}

/** One row of `stats`: how many jobs of a name are in a status. */
export interface JobCount {
  name: string;
  status: JobStatus;
  count: number;
}

/**
 * What differs between backends, so shared code never branches on the kind: `loco jobs` needs a
 * `durable` store, a worker process needs a `shared` one, and the contract suite skips the
 * cross-process cases for a store that is not shared.
 */
export interface BackendCapabilities {
  /** Jobs survive a restart of the process. */
  durable: boolean;
  /** Several processes can share the queue. */
  shared: boolean;
  /** `enqueue` can write inside the app's own transaction (`EnqueueRequest.transaction`). */
  transactions: boolean;
  /**
   * `ClaimRequest.finish` costs no write of its own: the outcomes go in the claim's transaction.
   * The worker loop then sends its outcomes with its claims rather than in writes between them.
   */
  finishInClaim: boolean;
}

/** What every store's constructor takes beside its `queue:` config. */
export interface StoreOptions {
  /** The app's root folder: relative SQLite paths resolve from it. */
  root: string;
  /** Where the store reports dropped connections and, with `enable_logging`, its statements. */
  logger: Logger;
}

/** How `init` opens a store. */
export interface InitOptions {
  /** Delete this queue's own data first (`dangerously_flush`), never anything else. */
  flush: boolean;
  /**
   * Create the store (file, schema, tables) when it does not exist. (Default: true) Commands that
   * only read (`loco jobs list`, `stats`, `dump`) pass false, and get a `QueueConnectionError`
   * saying there is no queue yet instead of an empty one made for them.
   */
  create?: boolean;
}

/** The backend objects whose `init` has been called. */
const initialised = new WeakSet<object>();

/**
 * Each backend object is initialised once: `init` opens the store's connections, and a second
 * call would leave the first ones open, so `close` could not let the process exit. Backends call
 * `initOnce(this)` first thing in `init`; a second call throws, before anything is opened or
 * flushed.
 */
export function initOnce(backend: Pick<QueueBackend, 'kind' | 'display'>): void {
  if (initialised.has(backend)) {
    throw new LocoError(
      `The ${backend.kind} queue at ${backend.display} was already initialised: init() runs once per backend. ` +
        'To open the store again, create another backend (createBackend) and initialise that one.',
    );
  }
  initialised.add(backend);
}

export interface QueueBackend {
  /** `Sqlite`, `Postgres`, `Redis` or `InProcess`: for messages only. */
  readonly kind: string;
  /** Where the store is, for messages: the URI without its password (`postgres://app@db:5432/app?schema=jobs`). */
  readonly display: string;
  readonly capabilities: BackendCapabilities;

  /**
   * Connects, applies the schema, and with `flush` deletes this queue's own data (never anything
   * else). Once per backend object: a second call throws (see `initOnce`).
   */
  init(options: InitOptions): Promise<void>;
  /**
   * Adds jobs atomically: all of them or none. A job with a key that matches a queued (or
   * processing) job of its name follows `onConflict`. Returns, in order, each job's id and
   * whether it was added.
   */
  enqueue(jobs: NewJob[], request?: EnqueueRequest): Promise<EnqueueResult[]>;
  /** Atomically moves up to `limit` due, matching, queued jobs to `processing` with a lease. */
  claim(request: ClaimRequest): Promise<ClaimedJob[]>;
  /** Records the outcomes of claimed jobs (completion, retry, final failure, interval re-queue). */
  finish(outcomes: JobOutcome[]): Promise<void>;
  /** Extends the lease of jobs this process is still running. */
  heartbeat(ids: string[], leaseUntil: number): Promise<void>;
  /**
   * Returns `processing` jobs whose lease ran out to `queued` (or `failed` when no attempts are left).
   * Returns how many were moved.
   */
  reapExpired(now: number): Promise<number>;
  /**
   * Resolves when new work may be available, after `timeoutMs` at the latest, or at once when
   * `signal` aborts. Backends that can be told (NOTIFY, blocking pop, in-process) wake early, and
   * a rate limit's window that opens sooner ends the wait then.
   */
  waitForWork(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /**
   * Claims one scheduled time (`tickAt`, ms since the epoch) of the schedule named `schedule` for
   * this caller: true for exactly one caller per (schedule, tickAt) among every process and
   * connection on the store, false for the others and for any later claim of that tick. This is
   * how several scheduler processes fire each scheduled time once. The claim is kept until
   * `tickAt + holdMs` at least; claims past that are pruned as part of claiming, and a tick whose
   * `tickAt + holdMs` has passed can no longer be claimed (false). A process that dies holding a
   * claim holds that one tick only: later ticks are claims of their own.
   */
  claimTick(schedule: string, tickAt: number, holdMs: number): Promise<boolean>;
  /** Checks the store answers (for `/_health`). Throws when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;

  // Operator verbs (`loco jobs ...`).
  /** Stops claims of a worker's or a queue's jobs in every process until `resume`; returns false if it was paused already. */
  pause(target: PauseTarget): Promise<boolean>;
  /** Lets claims of a paused worker's or queue's jobs go on; returns false if it was not paused. */
  resume(target: PauseTarget): Promise<boolean>;
  /** What is paused. */
  paused(): Promise<PauseTarget[]>;
  /** One job, or `null` when there is none with that id. */
  get(id: string): Promise<JobRecord | null>;
  /**
   * Puts finished jobs back in the queue, due now, attempts reset to 0, args and last error kept.
   * A retried job whose key another live job holds (or that another retried job of the same key
   * keeps) loses its key. Returns how many.
   */
  retry(query: RetryQuery): Promise<number>;
  /** Jobs matching the query, oldest first (or newest first with `limit`). */
  list(query: JobQuery): Promise<JobRecord[]>;
  /** Counts by status and name. */
  stats(): Promise<JobCount[]>;
  /** `queued` jobs of this name (only those of `ids`, when given) become `cancelled`; returns how many. */
  cancel(name: string, ids?: string[]): Promise<number>;
  /** Deletes jobs in these statuses, optionally only those last updated before a time; returns how many. */
  remove(query: RemoveQuery): Promise<number>;
  /**
   * Gives the space of deleted jobs back the store's own way (run by `loco jobs tidy` and
   * `purge`), and says how big the store was before and after. `vacuum` asks for the thorough
   * way, which may lock the store while it runs.
   */
  reclaimSpace(options: { vacuum: boolean }): Promise<SpaceReport>;
  /** `processing` jobs not updated since `updatedBefore` go back to `queued`; returns how many. */
  requeue(updatedBefore: number): Promise<number>;
}
