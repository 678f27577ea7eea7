import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { StoreConfig } from '../../config/schema.js';
import { describeValue, LocoError } from '../../errors.js';
import {
  type BackendCapabilities,
  type ClaimedJob,
  type ClaimRequest,
  type EnqueueRequest,
  type EnqueueResult,
  type InitOptions,
  initOnce,
  type JobCount,
  type JobOutcome,
  type JobQuery,
  type JobRecord,
  type JobStatus,
  type NewJob,
  type OnConflict,
  type PauseTarget,
  type QueueBackend,
  type RemoveQuery,
  type RetryQuery,
  type SpaceReport,
  type StoreOptions,
} from '../backend.js';
import { ClaimBudget, type NameUsage } from '../limits.js';
import { claimOrder } from '../order.js';
import { isPlainCompletion, LEASE_EXPIRED_ERROR } from '../outcome.js';
import { foldKeys, unfoldResults } from '../unique.js';
import { Wakeup } from '../wakeup.js';
import { openError, writeError } from './errors.js';
import * as sql from './sql.js';
import { parseSqliteUri, type SqliteLocation } from './uri.js';

/** How long a write waits for another connection's write lock before it fails, in ms. */
const BUSY_TIMEOUT_MS = 5000;
/**
 * The connection's page cache, in KiB (`PRAGMA cache_size` takes KiB as a negative number):
 * SQLite's own default, where better-sqlite3 sets 16 MiB. A worker's hot pages (the head of the
 * claim index, the rows it just claimed) fit, and the OS keeps the rest of the file cached. With
 * 16 MiB a drain worker's C heap grew by the whole cache (5.2 to 20.9 MB over 100,000 jobs) and
 * drained 5,000 jobs slower (18,080-20,680 against 21,689-27,558 jobs/s, 6 rounds each).
 */
const PAGE_CACHE_KIB = 2000;

/** How often an idle worker checks whether another process committed to the file, in ms. */
const CHANGE_CHECK_MS = 25;

/** Wake-ups shared by every backend on the same file in this process. */
const wakeups = new Map<string, Wakeup>();

type Row = Record<string, unknown>;

/** What the claim statement returns per job. */
interface ClaimRow {
  id: string;
  name: string;
  task_data: string;
  interval: number | null;
  tags: string;
  queue: string | null;
  priority: number;
  attempts: number;
  max_attempts: number;
  run_at: number;
  traceparent: string | null;
}

/** What the claim reads of a due job before picking. */
interface DueRow {
  id: string;
  name: string;
  priority: number;
  run_at: number;
  concurrency_key: string | null;
}

/**
 * The SQLite backend (better-sqlite3): one file shared by the processes of one machine, in WAL
 * mode with a busy timeout. Claims are single `UPDATE ... RETURNING` statements, which take the
 * write lock before reading, so two processes never claim the same job.
 */
export class SqliteBackend implements QueueBackend {
  readonly kind = 'Sqlite';
  readonly capabilities: BackendCapabilities = { durable: true, shared: true, transactions: true, finishInClaim: true };
  readonly display: string;
  private readonly location: SqliteLocation;
  /** Statements prepared on app connections given for enqueues inside their transactions. */
  private readonly appStatements = new WeakMap<Database.Database, ReturnType<typeof prepare>>();
  /** When a rate window that ran out of starts at the last claim opens again. */
  private reopensAt: number | undefined;
  private db!: Database.Database;
  private statements!: ReturnType<typeof prepare>;
  private readonly wakeup: Wakeup;
  private claimTickStatement: ReturnType<typeof claimTickIn> | undefined;

  constructor(config: StoreConfig, options: StoreOptions) {
    const location = parseSqliteUri(config.uri, options.root);
    this.location = location;
    this.display = location.file === ':memory:' ? 'sqlite://:memory:' : `sqlite://${location.file}`;
    let wakeup = wakeups.get(location.file);
    if (!wakeup || location.file === ':memory:') {
      wakeup = new Wakeup();
      if (location.file !== ':memory:') wakeups.set(location.file, wakeup);
    }
    this.wakeup = wakeup;
  }

  async init(options: InitOptions): Promise<void> {
    initOnce(this);
    const { file, mode } = this.location;
    const create = mode === 'rwc' && options.create !== false;
    try {
      this.db = new Database(file, { readonly: mode === 'ro', fileMustExist: !create });
      // A new file gives the pages of deleted jobs back to the file system on `tidy` and `purge`;
      // auto_vacuum can only be chosen before the first table exists (or by a VACUUM).
      if (mode !== 'ro' && this.db.prepare('SELECT count(*) FROM sqlite_master').pluck().get() === 0) {
        this.db.pragma('auto_vacuum = INCREMENTAL');
      }
      this.db.pragma('journal_mode = WAL');
    } catch (err) {
      this.db?.close();
      throw openError(err, this.display, { create, mode, file });
    }
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (mode !== 'ro') this.migrate();
    this.statements = prepare(this.db);
    if (options.flush) this.db.exec(sql.flushJobs);
  }

  private migrate(): void {
    const apply = this.db.transaction(() => {
      const version = this.db.pragma('user_version', { simple: true }) as number;
      for (let i = version; i < sql.MIGRATIONS.length; i++) this.db.exec(sql.MIGRATIONS[i]);
      if (version < sql.MIGRATIONS.length) this.db.pragma(`user_version = ${sql.MIGRATIONS.length}`);
    });
    apply.immediate();
  }

  async enqueue(jobs: NewJob[], request: EnqueueRequest = {}): Promise<EnqueueResult[]> {
    const folded = foldKeys(jobs, request.onConflict ?? 'keep');
    const statements = request.transaction === undefined ? this.statements : this.onAppConnection(request.transaction);
    let results: EnqueueResult[];
    try {
      results = statements.enqueue.immediate(folded.jobs, request.onConflict ?? 'keep', Date.now());
    } catch (err) {
      throw request.transaction === undefined ? writeError(err, this.display, BUSY_TIMEOUT_MS, 'enqueue') : err;
    }
    this.wakeup.notify();
    return unfoldResults(folded, results);
  }

  /**
   * The enqueue statements on the app's own connection, inside its open transaction: it must be
   * a better-sqlite3 Database on this queue's file.
   */
  private onAppConnection(handle: unknown): ReturnType<typeof prepare> {
    const db = handle as Database.Database;
    if (!(db instanceof Database) || !db.open) {
      throw new LocoError(
        `Enqueue in a transaction: the SQLite queue takes the app's better-sqlite3 Database (open, on ${this.display}), ` +
          `found ${describeValue(handle)}.`,
      );
    }
    if (path.resolve(db.name) !== this.location.file) {
      throw new LocoError(
        `Enqueue in a transaction: the Database given is on ${db.name}, but the queue is ${this.display}; ` +
          "a job can only be written in a transaction on the queue's own file.",
      );
    }
    if (!db.inTransaction) {
      throw new LocoError(
        'Enqueue in a transaction: the Database given has no open transaction; call performLater inside db.transaction(...).',
      );
    }
    let statements = this.appStatements.get(db);
    if (!statements) {
      statements = prepare(db);
      this.appStatements.set(db, statements);
    }
    return statements;
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    const { jobs, reopensAt, requeued } = this.statements.claim.immediate(request);
    this.reopensAt = reopensAt;
    if (requeued) this.wakeup.notify();
    return jobs;
  }

  async finish(outcomes: JobOutcome[]): Promise<void> {
    const requeued = this.statements.finishMany(outcomes, Date.now());
    if (requeued) this.wakeup.notify();
  }

  async heartbeat(ids: string[], leaseUntil: number): Promise<void> {
    this.statements.heartbeat.run({ ids: JSON.stringify(ids), lease_until: leaseUntil });
  }

  async reapExpired(now: number): Promise<number> {
    return this.statements.reap.run({ now, error: LEASE_EXPIRED_ERROR }).changes;
  }

  async waitForWork(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.reopensAt !== undefined) timeoutMs = Math.max(0, Math.min(timeoutMs, this.reopensAt - Date.now()));
    // Another process's commit changes data_version; checking it is cheap (no disk read), so
    // an idle worker notices new jobs from other processes within CHANGE_CHECK_MS.
    const local = new AbortController();
    const stop = () => local.abort();
    signal.addEventListener('abort', stop, { once: true });
    const version = this.dataVersion();
    const watcher = setInterval(
      () => {
        if (this.dataVersion() !== version) stop();
      },
      Math.min(CHANGE_CHECK_MS, timeoutMs),
    );
    try {
      await this.wakeup.wait(timeoutMs, local.signal);
    } finally {
      clearInterval(watcher);
      signal.removeEventListener('abort', stop);
    }
  }

  private dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  async claimTick(schedule: string, tickAt: number, holdMs: number): Promise<boolean> {
    const now = Date.now();
    if (tickAt + holdMs <= now) return false;
    // Prepared on first use: a read-only file from before the ticks table must still open.
    this.claimTickStatement ??= claimTickIn(this.db);
    return this.claimTickStatement(schedule, tickAt, tickAt + holdMs, now);
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db?.open) this.db.close();
  }

  async list(query: JobQuery): Promise<JobRecord[]> {
    const order =
      query.limit === undefined ? ' ORDER BY id' : ` ORDER BY id DESC LIMIT ${Math.max(0, Math.floor(query.limit))}`;
    const rows = this.db.prepare(sql.listJobs + order).all({
      statuses: query.statuses ? JSON.stringify(query.statuses) : null,
      name: query.name ?? null,
      updated_before: query.updatedBefore ?? null,
    }) as Row[];
    return rows.map(toRecord);
  }

  async pause(target: PauseTarget): Promise<boolean> {
    return this.statements.pause.run({ kind: target.kind, name: target.name, now: Date.now() }).changes > 0;
  }

  async resume(target: PauseTarget): Promise<boolean> {
    const resumed = this.statements.resume.run({ kind: target.kind, name: target.name }).changes > 0;
    if (resumed) this.wakeup.notify();
    return resumed;
  }

  async paused(): Promise<PauseTarget[]> {
    return this.statements.paused.all() as PauseTarget[];
  }

  async get(id: string): Promise<JobRecord | null> {
    const row = this.statements.get.get({ id }) as Row | undefined;
    return row ? toRecord(row) : null;
  }

  async retry(query: RetryQuery): Promise<number> {
    const moved = this.statements.retry.run({
      statuses: JSON.stringify(query.statuses),
      ids: query.ids ? JSON.stringify(query.ids) : null,
      name: query.name ?? null,
      now: Date.now(),
    }).changes;
    if (moved > 0) this.wakeup.notify();
    return moved;
  }

  async stats(): Promise<JobCount[]> {
    return this.statements.stats.all() as JobCount[];
  }

  async cancel(name: string, ids?: string[]): Promise<number> {
    if (ids?.length === 0) return 0;
    return this.statements.cancel.run({ name, now: Date.now(), ids: ids ? JSON.stringify(ids) : null }).changes;
  }

  async reclaimSpace(options: { vacuum: boolean }): Promise<SpaceReport> {
    const before = this.fileBytes();
    const incremental = this.db.pragma('auto_vacuum', { simple: true }) === AUTO_VACUUM_INCREMENTAL;
    if (options.vacuum) {
      this.db.pragma('auto_vacuum = INCREMENTAL');
      this.db.exec('VACUUM');
    } else if (incremental) this.db.pragma('incremental_vacuum');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    const note = options.vacuum
      ? 'VACUUM rebuilt the file and the WAL was checkpointed and truncated.'
      : incremental
        ? 'Free pages were given back (incremental vacuum) and the WAL was checkpointed and truncated.'
        : 'The WAL was checkpointed and truncated; this file was made before incremental vacuum was on, so its free ' +
          'pages are reused but not given back: --vacuum rebuilds it once (and turns incremental vacuum on).';
    return { before, after: this.fileBytes(), note };
  }

  /** The database file and its WAL, in bytes (0 for an in-memory database). */
  private fileBytes(): number {
    const { file } = this.location;
    if (file === ':memory:') return 0;
    return [file, `${file}-wal`].reduce((sum, part) => sum + (existsSync(part) ? statSync(part).size : 0), 0);
  }

  async remove(query: RemoveQuery): Promise<number> {
    return this.statements.remove.run({
      statuses: JSON.stringify(query.statuses),
      updated_before: query.updatedBefore ?? null,
      ids: query.ids ? JSON.stringify(query.ids) : null,
    }).changes;
  }

  async requeue(updatedBefore: number): Promise<number> {
    const moved = this.statements.requeueStale.run({ updated_before: updatedBefore, now: Date.now() }).changes;
    if (moved > 0) this.wakeup.notify();
    return moved;
  }
}

/** `PRAGMA auto_vacuum` of a file that gives free pages back on `incremental_vacuum`. */
const AUTO_VACUUM_INCREMENTAL = 2;

function prepare(db: Database.Database) {
  const insertOne = db.prepare(sql.enqueueJobs(1));
  const insertMany = db.prepare(sql.enqueueJobs(sql.ENQUEUE_ROWS));
  const findKeyHolder = db.prepare(sql.findKeyHolder);
  const releaseKey = db.prepare(sql.releaseKey);
  const replaceQueued = db.prepare(sql.replaceQueuedJob);
  const finish = db.prepare(sql.finishJob);
  const complete = db.prepare(sql.completeJobs);
  /** Applies outcomes (inside the caller's transaction); returns whether any job went back to the queue. */
  const applyOutcomes = (outcomes: JobOutcome[], now: number): boolean => {
    let requeued = false;
    /** Plain completions, [id, attempts] each, written by one statement. */
    const completed: Array<[string, number]> = [];
    for (const outcome of outcomes) {
      if (isPlainCompletion(outcome)) {
        completed.push([outcome.id, outcome.attempts]);
        continue;
      }
      finish.run(
        outcome.status,
        outcome.runAt,
        outcome.nextAttempts,
        outcome.error === undefined ? 1 : 0,
        outcome.error ?? null,
        now,
        outcome.id,
        outcome.attempts,
      );
      if (outcome.status === 'queued') requeued = true;
    }
    if (completed.length > 0) complete.run(now, JSON.stringify(completed));
    return requeued;
  };
  return {
    /**
     * Adds jobs (one per key at most: see `foldKeys`) in one write transaction, taken before
     * reading so that two processes cannot both find a key free.
     */
    enqueue: db.transaction((jobs: NewJob[], onConflict: OnConflict, now: number): EnqueueResult[] => {
      // Rows wait here and go in ENQUEUE_ROWS at a time: no key lookup below can need one, as a
      // call holds each key once (`foldKeys`).
      const rows: unknown[] = [];
      const width = sql.ENQUEUE_COLUMNS.length;
      const results = jobs.map((job): EnqueueResult => {
        const restored = job.restore && job.restore.status !== 'processing' ? job.restore : undefined;
        const live = !restored || restored.status === 'queued';
        if (job.key !== null && live) {
          const holder = findKeyHolder.get({ name: job.name, unique_key: job.key }) as
            | { id: string; status: string }
            | undefined;
          if (holder?.status === 'queued') {
            if (onConflict === 'replace') {
              replaceQueued.run({ id: holder.id, task_data: JSON.stringify(job.task_data), run_at: job.run_at, now });
            }
            return { id: holder.id, added: false };
          }
          if (holder) releaseKey.run({ id: holder.id });
        }
        // in the order of sql.ENQUEUE_COLUMNS
        rows.push(
          job.id,
          job.name,
          JSON.stringify(job.task_data),
          restored?.status ?? 'queued',
          job.run_at,
          job.interval,
          JSON.stringify(job.tags),
          job.queue,
          job.priority,
          job.key,
          job.concurrency_key,
          restored?.attempts ?? 0,
          job.max_attempts,
          restored?.last_error ?? null,
          job.created_at ?? now,
          restored?.updated_at ?? now,
          job.traceparent ?? null,
        );
        if (rows.length === width * sql.ENQUEUE_ROWS) {
          insertMany.run(rows);
          rows.length = 0;
        }
        return { id: job.id, added: true };
      });
      for (let at = 0; at < rows.length; at += width) insertOne.run(rows.slice(at, at + width));
      return results;
    }),
    claim: claimer(db, applyOutcomes),
    /** Applies outcomes in one transaction; returns whether any job went back to the queue. */
    finishMany: db.transaction(applyOutcomes),
    heartbeat: db.prepare(sql.heartbeatJobs),
    reap: db.prepare(sql.reapExpiredJobs),
    stats: db.prepare(sql.jobStats),
    cancel: db.prepare(sql.cancelJobs),
    remove: db.prepare(sql.removeJobs),
    requeueStale: db.prepare(sql.requeueStale),
    get: db.prepare(sql.getJob),
    pause: db.prepare(sql.pauseTarget),
    resume: db.prepare(sql.resumeTarget),
    paused: db.prepare(sql.pausedTargets),
    retry: db.prepare(sql.retriedJobs + sql.retryJobs),
  };
}

/** Prunes expired tick claims and claims one, in one write transaction; true when this call claimed it. */
function claimTickIn(db: Database.Database) {
  const prune = db.prepare(sql.pruneTicks);
  const claim = db.prepare(sql.claimTick);
  const transaction = db.transaction((schedule: string, tickAt: number, expiresAt: number, now: number) => {
    prune.run({ now });
    return claim.run({ schedule, tick_at: tickAt, expires_at: expiresAt }).changes === 1;
  });
  return (schedule: string, tickAt: number, expiresAt: number, now: number): boolean =>
    transaction.immediate(schedule, tickAt, expiresAt, now);
}

/**
 * The claim, as one write transaction: for each name the process may take (paused ones left
 * out), its due jobs in claim order through the claim index; then the best of them within the
 * names' limits (running jobs by concurrency key, starts in the rate window) become processing.
 */
/** What one claim transaction did. */
interface ClaimResult {
  jobs: ClaimedJob[];
  /** When a rate window that ran out of starts opens again. */
  reopensAt: number | undefined;
  /** An outcome of `ClaimRequest.finish` put a job back in the queue. */
  requeued: boolean;
}

/**
 * The claim: one write transaction that records the outcomes the request carries, then picks due
 * jobs (pauses, limits and order applied) and starts them.
 */
function claimer(db: Database.Database, applyOutcomes: (outcomes: JobOutcome[], now: number) => boolean) {
  /** The due-jobs statements, by tag rule, limit and whether queues are paused. */
  const due = new Map<string, Database.Statement>();
  const dueJobs = (tags: keyof typeof sql.CLAIM_TAGS, limit: number, queuesPaused: boolean) => {
    const id = `${tags}:${limit}:${queuesPaused}`;
    let statement = due.get(id);
    if (!statement) {
      statement = db.prepare(sql.dueJobs(tags, limit, queuesPaused));
      due.set(id, statement);
    }
    return statement;
  };
  const start = db.prepare(sql.startJobs);
  const running = db.prepare(sql.runningByKey);
  const pruneStarts = db.prepare(sql.pruneStarts);
  const windowStarts = db.prepare(sql.windowStarts).pluck();
  const logStart = db.prepare(sql.logStart);
  const paused = db.prepare(sql.pausedTargets);
  return db.transaction((request: ClaimRequest): ClaimResult => {
    const requeued = request.finish ? applyOutcomes(request.finish, Date.now()) : false;
    const limits = request.limits ?? {};
    const pauses = paused.all() as PauseTarget[];
    const pausedNames = new Set(pauses.filter((p) => p.kind === 'worker').map((p) => p.name));
    const pausedQueues = pauses.filter((p) => p.kind === 'queue').map((p) => p.name);
    const usage = new Map<string, NameUsage>();
    for (const [name, limit] of Object.entries(limits)) {
      if (limit.rate) pruneStarts.run({ name, since: request.now - limit.rate.perMs });
      usage.set(name, {
        runningByKey: new Map(
          limit.concurrency === undefined
            ? []
            : (running.all({ name }) as Array<{ key: string | null; count: number }>).map((row) => [
                row.key,
                row.count,
              ]),
        ),
        starts: limit.rate ? (windowStarts.all({ name }) as number[]) : [],
      });
    }
    const budget = new ClaimBudget(limits, usage);
    const walks: Array<keyof typeof sql.CLAIM_TAGS> = request.anyTag
      ? ['untagged', 'tagged']
      : [request.tags.length === 0 ? 'untagged' : 'matching'];
    const params = { now: request.now, tags: JSON.stringify(request.tags), paused: JSON.stringify(pausedQueues) };
    const candidates: DueRow[] = [];
    for (const name of request.names) {
      if (pausedNames.has(name) || budget.room(name) <= 0) continue;
      // Jobs of keys at their limit are passed over, so a name with a concurrency limit reads further ahead.
      const limit = limits[name]?.concurrency === undefined ? request.limit : request.limit * 20;
      for (const walk of walks) {
        candidates.push(...(dueJobs(walk, limit, pausedQueues.length > 0).all({ ...params, name }) as DueRow[]));
      }
    }
    if (request.names.length > 1 || walks.length > 1) candidates.sort(claimOrder);
    const picked: DueRow[] = [];
    for (const row of candidates) {
      if (picked.length >= request.limit) break;
      if (!budget.allows(row.name, row.concurrency_key)) continue;
      budget.take(row.name, row.concurrency_key);
      picked.push(row);
    }
    const reopensAt = budget.reopensAt(request.now);
    if (picked.length === 0) return { jobs: [], reopensAt, requeued };
    const rows = start.all({
      ids: JSON.stringify(picked.map((row) => row.id)),
      lease_until: request.now + request.leaseMs,
      now: request.now,
    }) as ClaimRow[];
    for (const row of picked) if (limits[row.name]?.rate) logStart.run({ name: row.name, now: request.now });
    return {
      reopensAt,
      requeued,
      jobs: rows.sort(claimOrder).map((row) => ({
        id: row.id,
        name: row.name,
        task_data: JSON.parse(row.task_data),
        interval: row.interval,
        tags: JSON.parse(row.tags),
        queue: row.queue,
        priority: row.priority,
        attempts: row.attempts,
        max_attempts: row.max_attempts,
        traceparent: row.traceparent,
      })),
    };
  });
}

function toRecord(row: Row): JobRecord {
  return {
    id: row.id as string,
    name: row.name as string,
    task_data: JSON.parse(row.task_data as string),
    status: row.status as JobStatus,
    run_at: row.run_at as number,
    interval: row.interval as number | null,
    tags: JSON.parse(row.tags as string),
    queue: row.queue as string | null,
    priority: row.priority as number,
    key: row.unique_key as string | null,
    attempts: row.attempts as number,
    max_attempts: row.max_attempts as number,
    last_error: row.last_error as string | null,
    lease_until: row.lease_until as number | null,
    created_at: row.created_at as number,
    updated_at: row.updated_at as number,
    traceparent: (row.traceparent as string | null) ?? null,
  };
}
