import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { StoreConfig } from '../../config/schema.js';
import { describeValue, LocoError, QueueConnectionError } from '../../errors.js';
import type { Logger } from '../../logger.js';
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
  type NewJob,
  type OnConflict,
  type PauseTarget,
  type QueueBackend,
  type RemoveQuery,
  type RetryQuery,
  type SpaceReport,
  type StoreOptions,
  type WorkerLimits,
} from '../backend.js';
import { type ClaimOrdered, claimOrder } from '../order.js';
import { LEASE_EXPIRED_ERROR } from '../outcome.js';
import { foldKeys, unfoldResults } from '../unique.js';
import { Wakeup } from '../wakeup.js';
import { errorMessage, isConnectFailure } from './errors.js';
import { NotificationListener } from './listener.js';
import { WakeupSender } from './notifier.js';
import * as sql from './sql.js';
import { type PostgresLocation, parsePostgresUri } from './uri.js';

/** This process's side of one queue's wake-ups, shared by every backend on that queue here. */
interface LocalChannel {
  /** Wakes this process's idle workers at once when a local enqueue makes jobs due. */
  wakeup: Wakeup;
  /** The payload of this process's NOTIFYs, so its listener skips wake-ups already delivered. */
  token: string;
}

const localChannels = new Map<string, LocalChannel>();

/** `bigint` columns hold ms timestamps and counts, well inside Number's exact range. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

type Statement = { name: string; text: string };
// biome-ignore lint/suspicious/noExplicitAny: rows are read by column name and typed where they are used.
type Row = Record<string, any>;

/**
 * The Postgres backend (pg): a `loco_jobs` table in the schema named by the URI's `?schema=`
 * (default `public`), shared by any number of processes and machines. Claims lock rows with
 * `FOR UPDATE SKIP LOCKED` in one statement; idle workers sleep on LISTEN/NOTIFY, with the
 * loop's poll interval as a backstop.
 */
export class PostgresBackend implements QueueBackend {
  readonly kind = 'Postgres';
  readonly capabilities: BackendCapabilities = {
    durable: true,
    shared: true,
    transactions: true,
    finishInClaim: false,
  };
  /** The queue's location: schema, and the URI without password for messages. */
  readonly location: PostgresLocation;
  readonly display: string;
  private readonly names: sql.SqlNames;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly logger: Logger;
  private readonly local: LocalChannel;
  private readonly clientConfig: pg.ClientConfig;
  private pool: pg.Pool | undefined;
  private listener: NotificationListener | undefined;
  private readonly wakeOthers: WakeupSender;
  private closed = false;
  /** Names with concurrency limits seen in claims: a job of one that finishes wakes idle workers. */
  private readonly limitedNames = new Set<string>();
  /** When a rate window that ran out of starts at the last claim opens again. */
  private reopensAt: number | undefined;

  constructor(
    private readonly config: StoreConfig,
    options: StoreOptions,
  ) {
    this.location = parsePostgresUri(config.uri);
    this.display = this.location.display;
    this.names = sql.sqlNames(this.location.schema);
    this.statements = prepareStatements(this.names);
    this.logger = options.logger;
    const key = `${this.location.connectionString}#${this.location.schema}`;
    const local = localChannels.get(key) ?? { wakeup: new Wakeup(), token: `${process.pid}:${randomUUID()}` };
    localChannels.set(key, local);
    this.local = local;
    this.wakeOthers = new WakeupSender(
      () => this.run(this.statements.notify, [this.names.channel, local.token]),
      (err) =>
        this.logger.error(
          `Postgres queue ${this.location.display}: could not wake idle workers in other processes (${errorMessage(err)}); ` +
            'they find the new jobs at their next poll.',
        ),
    );
    this.clientConfig = {
      connectionString: this.location.connectionString,
      // A URI's own application_name wins over this one.
      application_name: `loco-ts:${this.location.schema}`,
      connectionTimeoutMillis: config.connect_timeout,
      keepAlive: true,
      types,
    };
  }

  async init(options: InitOptions): Promise<void> {
    initOnce(this);
    const pool = new pg.Pool({
      ...this.clientConfig,
      max: this.config.max_connections,
      min: this.config.min_connections,
      idleTimeoutMillis: this.config.idle_timeout,
    });
    // An idle connection that the server closes (restart, pg_terminate_backend) is dropped by
    // the pool, which opens a new one on the next query; without this handler Node would exit.
    pool.on('error', (err) => {
      this.logger.error(
        `Postgres queue ${this.location.display}: an idle connection closed (${errorMessage(err)}); a new one opens when needed.`,
      );
    });
    this.pool = pool;
    try {
      await this.migrate(pool, options.create !== false);
      if (options.flush) await this.run(this.statements.flush, []);
    } catch (err) {
      this.pool = undefined;
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Brings the schema to the latest migration, one booting process at a time. With `create`
   * false, a schema without the queue's tables is an error instead.
   */
  private async migrate(pool: pg.Pool, create: boolean): Promise<void> {
    let client: pg.PoolClient;
    const connecting = Date.now();
    try {
      client = await pool.connect();
    } catch (err) {
      const timedOut = Date.now() - connecting >= this.config.connect_timeout;
      throw this.connectionError(err, timedOut);
    }
    // A dropped connection also fails the statement in flight, which reports it.
    const ignore = () => undefined;
    client.on('error', ignore);
    const { schema } = this.location;
    const t = this.names;
    let failure: unknown;
    try {
      await client.query('BEGIN');
      await client.query(sql.lockMigrations, [schema]);
      if (!create && (await client.query(sql.queueExists, [schema])).rowCount === 0) {
        throw new QueueConnectionError(
          `There is no queue in schema "${schema}" at ${this.location.display} yet: nothing has been enqueued there ` +
            '(the commands that only read do not create it). Check queue.uri and its ?schema=, or start the app once.',
        );
      }
      if ((await client.query(sql.schemaExists, [schema])).rowCount === 0) await client.query(sql.createSchema(t));
      await client.query(sql.createMigrationsTable(t));
      const applied = Number((await client.query(sql.appliedVersion(t))).rows[0].version);
      const latest = sql.MIGRATIONS.length;
      if (applied > latest) {
        throw new QueueConnectionError(
          `The Postgres queue schema "${schema}" at ${this.location.display} is at migration ${applied}, newer than ` +
            `this loco-runtime knows (${latest}). Upgrade loco-runtime in this app, or use another ?schema=.`,
        );
      }
      for (const migration of sql.MIGRATIONS.slice(applied)) {
        await client.query(migration.sql(t));
        await client.query(sql.recordMigration(t), [migration.version, migration.name]);
      }
      await client.query('COMMIT');
    } catch (err) {
      failure = err;
      await client.query('ROLLBACK').catch(ignore);
      if (err instanceof QueueConnectionError) throw err;
      if (isConnectFailure(err)) throw this.connectionError(err);
      throw new QueueConnectionError(
        `Cannot set up the Postgres queue in schema "${schema}" at ${this.location.display}: ${errorMessage(err)}. ` +
          'The user needs CREATE on the database (or on an existing schema); grant it, or choose another ?schema= in queue.uri.',
        { cause: err },
      );
    } finally {
      client.removeListener('error', ignore);
      client.release(failure instanceof Error && isConnectFailure(failure) ? failure : undefined);
    }
  }

  /** A failure to reach the server, worded the same at boot and for a call made later (`action`). */
  private connectionError(err: unknown, timedOut = false, action?: string): QueueConnectionError {
    const reason = timedOut
      ? `no answer within ${this.config.connect_timeout} ms (queue.connect_timeout)`
      : errorMessage(err);
    return new QueueConnectionError(
      `Cannot connect to the Postgres queue at ${this.location.display}${action ? ` to ${action}` : ''}: ${reason}. ` +
        'Check that the server is running and queue.uri is right.' +
        (action ? ' Workers reconnect by themselves once it is back.' : ''),
      { cause: err },
    );
  }

  /** Runs a named (prepared once per connection) statement, on `client` when given, else on the pool. */
  private run(statement: Statement, values: unknown[], client?: pg.ClientBase): Promise<pg.QueryResult<Row>> {
    const pool = this.openPool();
    if (this.config.enable_logging) {
      this.logger.info(
        `[postgres] ${statement.name}: ${statement.text.replace(/\s+/g, ' ').trim()} -- ${JSON.stringify(values)}`,
      );
    }
    return (client ?? pool).query<Row>({ name: statement.name, text: statement.text, values });
  }

  /** The pool, or an error when the backend is closed or was never initialised. */
  private openPool(): pg.Pool {
    if (!this.pool) {
      throw new QueueConnectionError(
        `The Postgres queue at ${this.location.display} is ${this.closed ? 'closed' : 'not initialised; call init() first'}.`,
      );
    }
    return this.pool;
  }

  async enqueue(jobs: NewJob[], request: EnqueueRequest = {}): Promise<EnqueueResult[]> {
    if (jobs.length === 0) return [];
    const onConflict = request.onConflict ?? 'keep';
    const folded = foldKeys(jobs, onConflict);
    const now = Date.now();
    const plain = folded.jobs.every((job) => job.key === null && !job.restore);
    let results: EnqueueResult[];
    if (request.transaction !== undefined) {
      const client = appClient(request.transaction);
      results = plain
        ? await this.insert(folded.jobs, now, client)
        : await this.upsert(folded.jobs, onConflict, now, client);
      // Delivered by Postgres at the app's commit (and dropped with a rollback); the payload is not
      // this process's token, so its own listener wakes its idle workers too.
      if (folded.jobs.some((job) => job.run_at <= now)) {
        await this.run(this.statements.notifyInTransaction, [this.names.channel, 'commit'], client);
      }
    } else {
      const started = Date.now();
      try {
        results = plain
          ? await this.insert(folded.jobs, now)
          : await this.inTransaction((client) => this.upsert(folded.jobs, onConflict, now, client));
      } catch (err) {
        if (!isConnectFailure(err)) throw err;
        // The pool gives up connecting after queue.connect_timeout (connectionTimeoutMillis).
        const timedOut = Date.now() - started >= this.config.connect_timeout;
        throw this.connectionError(err, timedOut, 'enqueue');
      }
      if (results.some((result) => result.added) && folded.jobs.some((job) => job.run_at <= now)) this.wake();
    }
    return unfoldResults(folded, results);
  }

  /** Jobs without keys: one plain insert. */
  private async insert(jobs: NewJob[], now: number, client?: pg.ClientBase): Promise<EnqueueResult[]> {
    if (jobs.length === 1) {
      const [job] = jobs;
      await this.run(
        this.statements.enqueueJob,
        [
          job.id,
          job.name,
          JSON.stringify(job.task_data),
          Math.round(job.run_at),
          job.interval === null ? null : Math.round(job.interval),
          job.tags,
          job.queue,
          job.priority,
          job.max_attempts,
          Math.round(job.created_at ?? now),
          job.concurrency_key,
          now,
          job.traceparent ?? null,
        ],
        client,
      );
    } else {
      await this.run(this.statements.enqueueJobs, [...jobColumns(jobs, now), now], client);
    }
    return jobs.map((job) => ({ id: job.id, added: true }));
  }

  /**
   * Jobs with keys (or restored ones), on one client inside a transaction: keys held by
   * processing jobs are released, then each job is inserted or matched. A job that meets a key
   * another process's claim took meanwhile is tried again.
   */
  private async upsert(
    jobs: NewJob[],
    onConflict: OnConflict,
    now: number,
    client: pg.ClientBase,
  ): Promise<EnqueueResult[]> {
    const results: Array<EnqueueResult | undefined> = jobs.map(() => undefined);
    let pending = jobs.map((job, index) => ({ job, index }));
    for (let round = 0; pending.length > 0; round++) {
      if (round === 5) {
        throw new LocoError(
          `Could not enqueue ${pending.length} job(s) with a unique key on ${this.display}: their keys kept moving ` +
            'between jobs being claimed. Nothing was written; try again.',
        );
      }
      const keyed = pending.filter(({ job }) => job.key !== null && isLive(job));
      if (keyed.length > 0) {
        await this.run(
          this.statements.releaseKeys,
          [keyed.map(({ job }) => job.name), keyed.map(({ job }) => job.key)],
          client,
        );
      }
      const batch = pending.map(({ job }) => job);
      const { rows } = await this.run(
        this.statements.upsert,
        [
          ...jobColumns(batch, now),
          batch.map((job) => job.key),
          batch.map((job) => (job.restore && isLive(job) ? 'queued' : (job.restore?.status ?? 'queued'))),
          batch.map((job) => job.restore?.attempts ?? 0),
          batch.map((job) => (job.restore?.last_error == null ? null : storableText(job.restore.last_error))),
          onConflict === 'replace',
          batch.map((job) => job.restore?.updated_at ?? null),
          now,
        ],
        client,
      );
      const byId = new Map(rows.map((row) => [row.id as string, row]));
      const byKey = new Map(
        rows.filter((row) => row.unique_key !== null).map((row) => [`${row.name}\0${row.unique_key}`, row]),
      );
      const next: typeof pending = [];
      for (const entry of pending) {
        const { job } = entry;
        const row =
          byId.get(job.id) ?? (job.key !== null && isLive(job) ? byKey.get(`${job.name}\0${job.key}`) : undefined);
        if (row) results[entry.index] = { id: row.id, added: row.id === job.id };
        else next.push(entry);
      }
      pending = next;
    }
    return results as EnqueueResult[];
  }

  /** Runs `work` on one pooled connection inside a transaction that waits for the disk. */
  private async inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.openPool().connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      // A connection the server dropped must not go back to the pool.
      if (err instanceof Error && isConnectFailure(err)) broken = err;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    // Outcomes are a write of their own here (`capabilities.finishInClaim` is false).
    if (request.finish) await this.finish(request.finish);
    if (request.names.length === 0 || request.limit < 1) return [];
    const now = Math.floor(request.now);
    const rule: sql.ClaimVariant = request.anyTag ? 'any' : request.tags.length === 0 ? 'untagged' : 'matching';
    const limits = request.limits ? limitsJson(request.limits) : null;
    for (const [name, limit] of Object.entries(request.limits ?? {}))
      if (limit.concurrency) this.limitedNames.add(name);
    const { rows } = await this.run(this.statements.claim, [
      now,
      Math.round(now + request.leaseMs),
      request.names,
      Math.floor(request.limit),
      request.tags,
      rule,
      limits,
    ]);
    // A short claim of rate-limited names: sleep no longer than until a rate window opens.
    this.reopensAt = undefined;
    if (limits && rows.length < request.limit && Object.values(request.limits!).some((limit) => limit.rate)) {
      const [row] = (await this.run(this.statements.rateReopens, [limits, now])).rows;
      this.reopensAt = row?.reopens_at ?? undefined;
    }
    if (rows.length > 1) rows.sort((a, b) => claimOrder(a as ClaimOrdered, b as ClaimOrdered));
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      task_data: row.task_data,
      interval: row.interval,
      tags: row.tags,
      queue: row.queue,
      priority: row.priority,
      attempts: row.attempts,
      max_attempts: row.max_attempts,
      traceparent: row.traceparent,
    }));
  }

  async finish(outcomes: JobOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    const now = Date.now();
    await this.run(this.statements.finish, [
      outcomes.map((outcome) => outcome.id),
      outcomes.map((outcome) => outcome.attempts),
      outcomes.map((outcome) => outcome.status),
      outcomes.map((outcome) => (outcome.runAt === null ? null : Math.round(outcome.runAt))),
      outcomes.map((outcome) => outcome.nextAttempts),
      outcomes.map((outcome) => outcome.error === undefined),
      outcomes.map((outcome) => (typeof outcome.error === 'string' ? storableText(outcome.error) : null)),
      now,
    ]);
    // A job back in the queue, or a slot freed under a concurrency limit that may hold others back.
    if (
      outcomes.some(
        (outcome) =>
          (outcome.status === 'queued' && outcome.runAt !== null && outcome.runAt <= now) ||
          this.limitedNames.has(outcome.name),
      )
    ) {
      this.wake();
    }
  }

  /** Wakes idle workers on this queue: this process's at once, other processes' through NOTIFY. */
  private wake(): void {
    this.local.wakeup.notify();
    this.wakeOthers.request();
  }

  async heartbeat(ids: string[], leaseUntil: number): Promise<void> {
    if (ids.length === 0) return;
    await this.run(this.statements.heartbeat, [ids, Math.round(leaseUntil)]);
  }

  async reapExpired(now: number): Promise<number> {
    const { rows } = await this.run(this.statements.reap, [Math.floor(now), LEASE_EXPIRED_ERROR]);
    if (rows[0].requeued > 0) this.wake();
    return rows[0].moved;
  }

  async waitForWork(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.reopensAt !== undefined) timeoutMs = Math.max(0, Math.min(timeoutMs, this.reopensAt - Date.now()));
    if (!this.listener && !this.closed) {
      this.listener = new NotificationListener({
        client: this.clientConfig,
        listenSql: sql.listen(this.names),
        onNotify: (payload) => {
          if (payload !== this.local.token) this.local.wakeup.notify();
        },
        logger: this.logger,
        display: this.location.display,
      });
      this.listener.start();
    }
    await this.local.wakeup.wait(timeoutMs, signal);
  }

  async claimTick(schedule: string, tickAt: number, holdMs: number): Promise<boolean> {
    const now = Date.now();
    if (tickAt + holdMs <= now) return false;
    const { rowCount } = await this.run(this.statements.claimTick, [
      schedule,
      Math.floor(tickAt),
      Math.floor(tickAt + holdMs),
      now,
    ]);
    return rowCount === 1;
  }

  async ping(): Promise<void> {
    await this.run(this.statements.ping, []);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const { pool, listener } = this;
    this.listener = undefined;
    await this.wakeOthers.close();
    await listener?.close();
    this.pool = undefined;
    await pool?.end();
  }

  async list(query: JobQuery): Promise<JobRecord[]> {
    const statement = query.limit === undefined ? this.statements.list.oldestFirst : this.statements.list.newestFirst;
    const { rows } = await this.run(statement, [
      query.statuses ?? null,
      query.name ?? null,
      query.updatedBefore === undefined ? null : Math.floor(query.updatedBefore),
      query.limit === undefined ? null : Math.max(0, Math.floor(query.limit)),
    ]);
    return rows as JobRecord[];
  }

  async pause(target: PauseTarget): Promise<boolean> {
    return ((await this.run(this.statements.pause, [target.kind, target.name, Date.now()])).rowCount ?? 0) > 0;
  }

  async resume(target: PauseTarget): Promise<boolean> {
    const resumed = ((await this.run(this.statements.resume, [target.kind, target.name])).rowCount ?? 0) > 0;
    if (resumed) this.wake();
    return resumed;
  }

  async paused(): Promise<PauseTarget[]> {
    return (await this.run(this.statements.paused, [])).rows as PauseTarget[];
  }

  async get(id: string): Promise<JobRecord | null> {
    const { rows } = await this.run(this.statements.get, [id]);
    return (rows[0] as JobRecord | undefined) ?? null;
  }

  async retry(query: RetryQuery): Promise<number> {
    const { rowCount } = await this.run(this.statements.retry, [
      query.statuses,
      query.ids ?? null,
      query.name ?? null,
      Date.now(),
    ]);
    if (rowCount) this.wake();
    return rowCount ?? 0;
  }

  async stats(): Promise<JobCount[]> {
    return (await this.run(this.statements.stats, [])).rows as JobCount[];
  }

  async cancel(name: string, ids?: string[]): Promise<number> {
    if (ids?.length === 0) return 0;
    return (await this.run(this.statements.cancel, [name, Date.now(), ids ?? null])).rowCount ?? 0;
  }

  async reclaimSpace(options: { vacuum: boolean }): Promise<SpaceReport> {
    const size = async () => Number((await this.run(this.statements.jobsSize, [this.names.jobs])).rows[0].bytes);
    const before = await size();
    // A utility statement: sent as plain text, since it cannot be prepared.
    if (options.vacuum) await this.openPool().query(sql.vacuumJobs(this.names));
    return {
      before,
      after: await size(),
      note: options.vacuum
        ? 'VACUUM (ANALYZE) ran on the jobs table: its free space is reused by new jobs; the table shrinks on disk only ' +
          'with VACUUM FULL, which locks it (run that yourself at a quiet time).'
        : "Postgres's autovacuum makes the space of deleted jobs reusable soon; --vacuum runs VACUUM now.",
    };
  }

  async remove(query: RemoveQuery): Promise<number> {
    const { rowCount } = await this.run(this.statements.remove, [
      query.statuses,
      query.updatedBefore === undefined ? null : Math.floor(query.updatedBefore),
      query.ids ?? null,
    ]);
    return rowCount ?? 0;
  }

  async requeue(updatedBefore: number): Promise<number> {
    const { rowCount } = await this.run(this.statements.requeueStale, [Math.floor(updatedBefore), Date.now()]);
    if (rowCount) this.wake();
    return rowCount ?? 0;
  }
}

/** The backend's statements, named for pg's per-connection prepared statement cache. */
function prepareStatements(t: sql.SqlNames) {
  const statement = (name: string, text: string): Statement => ({ name: `loco_${name}`, text });
  return {
    enqueueJob: statement('enqueue_job', sql.enqueueJob(t)),
    enqueueJobs: statement('enqueue_jobs', sql.enqueueJobs(t)),
    releaseKeys: statement('release_keys', sql.releaseKeys(t)),
    upsert: statement('upsert_jobs', sql.upsertJobs(t)),
    notifyInTransaction: statement('notify_in_transaction', sql.notifyInTransaction),
    get: statement('get_job', sql.getJob(t)),
    rateReopens: statement('rate_reopens', sql.rateReopens(t)),
    pause: statement('pause_target', sql.pauseTarget(t)),
    resume: statement('resume_target', sql.resumeTarget(t)),
    paused: statement('paused_targets', sql.pausedTargets(t)),
    retry: statement('retry_jobs', sql.retryJobs(t)),
    claim: statement('claim_jobs', sql.claimJobs(t)),
    finish: statement('finish_jobs', sql.finishJobs(t)),
    heartbeat: statement('heartbeat_jobs', sql.heartbeatJobs(t)),
    reap: statement('reap_expired_jobs', sql.reapExpiredJobs(t)),
    list: {
      oldestFirst: statement('list_jobs', sql.listJobs(t, false)),
      newestFirst: statement('list_jobs_newest', sql.listJobs(t, true)),
    },
    stats: statement('job_stats', sql.jobStats(t)),
    cancel: statement('cancel_jobs', sql.cancelJobs(t)),
    remove: statement('remove_jobs', sql.removeJobs(t)),
    jobsSize: statement('jobs_size', sql.jobsSize),
    requeueStale: statement('requeue_stale', sql.requeueStale(t)),
    flush: statement('flush_jobs', sql.flushJobs(t)),
    notify: statement('notify_workers', sql.notifyWorkers),
    claimTick: statement('claim_tick', sql.claimTick(t)),
    ping: statement('ping', 'SELECT 1'),
  };
}

/** The columns `enqueueJobs` and `upsertJobs` share, as arrays ($1 to $12). */
function jobColumns(jobs: NewJob[], now: number): unknown[] {
  return [
    jobs.map((job) => job.id),
    jobs.map((job) => job.name),
    jobs.map((job) => JSON.stringify(job.task_data)),
    jobs.map((job) => Math.round(job.run_at)),
    jobs.map((job) => (job.interval === null ? null : Math.round(job.interval))),
    jobs.map((job) => JSON.stringify(job.tags)),
    jobs.map((job) => job.queue),
    jobs.map((job) => job.priority),
    jobs.map((job) => job.max_attempts),
    jobs.map((job) => Math.round(job.created_at ?? now)),
    jobs.map((job) => job.concurrency_key),
    jobs.map((job) => job.traceparent ?? null),
  ];
}

/** Limits as the claim function reads them: name -> { concurrency, rate_max, rate_ms }. */
function limitsJson(limits: Record<string, WorkerLimits>): string {
  return JSON.stringify(
    Object.fromEntries(
      Object.entries(limits).map(([name, limit]) => [
        name,
        {
          concurrency: limit.concurrency ?? null,
          rate_max: limit.rate?.max ?? null,
          rate_ms: limit.rate?.perMs ?? null,
        },
      ]),
    ),
  );
}

/** Whether a new job enters the queue live (queued), where its key counts. */
function isLive(job: NewJob): boolean {
  return !job.restore || job.restore.status === 'queued' || job.restore.status === 'processing';
}

/** The app's `pg` client for an enqueue inside its transaction, or an error saying what is needed. */
function appClient(handle: unknown): pg.ClientBase {
  if (typeof (handle as pg.ClientBase | null)?.query !== 'function') {
    throw new LocoError(
      `Enqueue in a transaction: the Postgres queue takes the app's pg client (a Client or a PoolClient inside BEGIN), found ${describeValue(handle)}.`,
    );
  }
  return handle as pg.ClientBase;
}

/** Postgres text cannot hold NUL characters; an error message with one is kept with `\0` spelled out. */
function storableText(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\\0') : text;
}
