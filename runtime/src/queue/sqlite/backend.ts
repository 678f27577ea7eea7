import Database from 'better-sqlite3';
import type { StoreConfig } from '../../config/schema.js';
import type {
  BackendCapabilities,
  ClaimedJob,
  ClaimRequest,
  InitOptions,
  JobCount,
  JobOutcome,
  JobQuery,
  JobRecord,
  JobStatus,
  NewJob,
  QueueBackend,
  RemoveQuery,
  StoreOptions,
} from '../backend.js';
import { LEASE_EXPIRED_ERROR } from '../outcome.js';
import { Wakeup } from '../wakeup.js';
import { openError } from './errors.js';
import * as sql from './sql.js';
import { parseSqliteUri, type SqliteLocation } from './uri.js';

/** How often an idle worker checks whether another process committed to the file, in ms. */
const CHANGE_CHECK_MS = 25;

/** Wake-ups shared by every backend on the same file in this process. */
const wakeups = new Map<string, Wakeup>();

type Row = Record<string, unknown>;

/**
 * The SQLite backend (better-sqlite3): one file shared by the processes of one machine, in WAL
 * mode with a busy timeout. Claims are single `UPDATE ... RETURNING` statements, which take the
 * write lock before reading, so two processes never claim the same job.
 */
export class SqliteBackend implements QueueBackend {
  readonly kind = 'Sqlite';
  readonly capabilities: BackendCapabilities = { durable: true, shared: true };
  readonly display: string;
  private readonly location: SqliteLocation;
  private db!: Database.Database;
  private statements!: ReturnType<typeof prepare>;
  private readonly wakeup: Wakeup;

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
    const { file, mode } = this.location;
    const create = mode === 'rwc' && options.create !== false;
    try {
      this.db = new Database(file, { readonly: mode === 'ro', fileMustExist: !create });
      this.db.pragma('journal_mode = WAL');
    } catch (err) {
      this.db?.close();
      throw openError(err, this.display, { create, mode, file });
    }
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
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

  async enqueue(jobs: NewJob[]): Promise<string[]> {
    const now = Date.now();
    this.statements.insertMany(
      jobs.map((job) => ({
        id: job.id,
        name: job.name,
        task_data: JSON.stringify(job.task_data),
        run_at: job.run_at,
        interval: job.interval,
        tags: JSON.stringify(job.tags),
        queue: job.queue,
        max_attempts: job.max_attempts,
        created_at: job.created_at ?? now,
        updated_at: now,
      })),
    );
    this.wakeup.notify();
    return jobs.map((job) => job.id);
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    const variant = request.anyTag ? 'any' : request.tags.length === 0 ? 'untagged' : 'matching';
    const rows = this.statements.claim[variant].all({
      now: request.now,
      lease_until: request.now + request.leaseMs,
      names: JSON.stringify(request.names),
      tags: JSON.stringify(request.tags),
      limit: request.limit,
    }) as Row[];
    rows.sort((a, b) => (a.run_at as number) - (b.run_at as number) || ((a.id as string) < (b.id as string) ? -1 : 1));
    return rows.map((row) => ({
      id: row.id as string,
      name: row.name as string,
      task_data: JSON.parse(row.task_data as string),
      interval: row.interval as number | null,
      tags: JSON.parse(row.tags as string),
      queue: row.queue as string | null,
      attempts: row.attempts as number,
      max_attempts: row.max_attempts as number,
    }));
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

  async stats(): Promise<JobCount[]> {
    return this.statements.stats.all() as JobCount[];
  }

  async cancel(name: string): Promise<number> {
    return this.statements.cancel.run({ name, now: Date.now() }).changes;
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

function prepare(db: Database.Database) {
  const insert = db.prepare(sql.enqueueJob);
  const finish = db.prepare(sql.finishJob);
  return {
    insertMany: db.transaction((rows: Row[]) => {
      for (const row of rows) insert.run(row);
    }),
    claim: {
      untagged: db.prepare(sql.claimJobs('untagged')),
      matching: db.prepare(sql.claimJobs('matching')),
      any: db.prepare(sql.claimJobs('any')),
    },
    /** Applies outcomes in one transaction; returns whether any job went back to the queue. */
    finishMany: db.transaction((outcomes: JobOutcome[], now: number): boolean => {
      let requeued = false;
      for (const outcome of outcomes) {
        finish.run({
          id: outcome.id,
          attempts: outcome.attempts,
          status: outcome.status,
          run_at: outcome.runAt,
          next_attempts: outcome.nextAttempts,
          keep_error: outcome.error === undefined ? 1 : 0,
          error: outcome.error ?? null,
          now,
        });
        if (outcome.status === 'queued') requeued = true;
      }
      return requeued;
    }),
    heartbeat: db.prepare(sql.heartbeatJobs),
    reap: db.prepare(sql.reapExpiredJobs),
    stats: db.prepare(sql.jobStats),
    cancel: db.prepare(sql.cancelJobs),
    remove: db.prepare(sql.removeJobs),
    requeueStale: db.prepare(sql.requeueStale),
  };
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
    attempts: row.attempts as number,
    max_attempts: row.max_attempts as number,
    last_error: row.last_error as string | null,
    lease_until: row.lease_until as number | null,
    created_at: row.created_at as number,
    updated_at: row.updated_at as number,
  };
}
