import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { StoreConfig } from '../../config/schema.js';
import { QueueConnectionError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type {
  BackendCapabilities,
  ClaimedJob,
  ClaimRequest,
  InitOptions,
  JobCount,
  JobOutcome,
  JobQuery,
  JobRecord,
  NewJob,
  QueueBackend,
  RemoveQuery,
  StoreOptions,
} from '../backend.js';
import { LEASE_EXPIRED_ERROR } from '../outcome.js';
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
  readonly capabilities: BackendCapabilities = { durable: true, shared: true };
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

  private connectionError(err: unknown, timedOut = false): QueueConnectionError {
    const reason = timedOut
      ? `no answer within ${this.config.connect_timeout} ms (queue.connect_timeout)`
      : errorMessage(err);
    return new QueueConnectionError(
      `Cannot connect to the Postgres queue at ${this.location.display}: ${reason}. ` +
        'Check that the server is running and queue.uri is right.',
      { cause: err },
    );
  }

  /** Runs a named (prepared once per connection) statement. */
  private run(statement: Statement, values: unknown[]): Promise<pg.QueryResult<Row>> {
    if (!this.pool) {
      throw new QueueConnectionError(
        `The Postgres queue at ${this.location.display} is ${this.closed ? 'closed' : 'not initialised; call init() first'}.`,
      );
    }
    if (this.config.enable_logging) {
      this.logger.info(
        `[postgres] ${statement.name}: ${statement.text.replace(/\s+/g, ' ').trim()} -- ${JSON.stringify(values)}`,
      );
    }
    return this.pool.query<Row>({ name: statement.name, text: statement.text, values });
  }

  async enqueue(jobs: NewJob[]): Promise<string[]> {
    if (jobs.length === 0) return [];
    const now = Date.now();
    if (jobs.length === 1) {
      const [job] = jobs;
      await this.run(this.statements.enqueueJob, [
        job.id,
        job.name,
        JSON.stringify(job.task_data),
        Math.round(job.run_at),
        job.interval === null ? null : Math.round(job.interval),
        job.tags,
        job.queue,
        job.max_attempts,
        Math.round(job.created_at ?? now),
        now,
      ]);
    } else {
      await this.run(this.statements.enqueueJobs, [
        jobs.map((job) => job.id),
        jobs.map((job) => job.name),
        jobs.map((job) => JSON.stringify(job.task_data)),
        jobs.map((job) => Math.round(job.run_at)),
        jobs.map((job) => (job.interval === null ? null : Math.round(job.interval))),
        jobs.map((job) => JSON.stringify(job.tags)),
        jobs.map((job) => job.queue),
        jobs.map((job) => job.max_attempts),
        jobs.map((job) => Math.round(job.created_at ?? now)),
        now,
      ]);
    }
    if (jobs.some((job) => job.run_at <= now)) this.wake();
    return jobs.map((job) => job.id);
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    if (request.names.length === 0 || request.limit < 1) return [];
    const now = Math.floor(request.now);
    const rule: sql.ClaimVariant = request.anyTag ? 'any' : request.tags.length === 0 ? 'untagged' : 'matching';
    const { rows } = await this.run(this.statements.claim, [
      now,
      Math.round(now + request.leaseMs),
      request.names,
      Math.floor(request.limit),
      request.tags,
      rule,
    ]);
    if (rows.length > 1) rows.sort((a, b) => a.run_at - b.run_at || (a.id < b.id ? -1 : 1));
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      task_data: row.task_data,
      interval: row.interval,
      tags: row.tags,
      queue: row.queue,
      attempts: row.attempts,
      max_attempts: row.max_attempts,
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
    if (outcomes.some((outcome) => outcome.status === 'queued' && outcome.runAt !== null && outcome.runAt <= now)) {
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

  async stats(): Promise<JobCount[]> {
    return (await this.run(this.statements.stats, [])).rows as JobCount[];
  }

  async cancel(name: string): Promise<number> {
    return (await this.run(this.statements.cancel, [name, Date.now()])).rowCount ?? 0;
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
    requeueStale: statement('requeue_stale', sql.requeueStale(t)),
    flush: statement('flush_jobs', sql.flushJobs(t)),
    notify: statement('notify_workers', sql.notifyWorkers),
    claimTick: statement('claim_tick', sql.claimTick(t)),
    ping: statement('ping', 'SELECT 1'),
  };
}

/** Postgres text cannot hold NUL characters; an error message with one is kept with `\0` spelled out. */
function storableText(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\\0') : text;
}
