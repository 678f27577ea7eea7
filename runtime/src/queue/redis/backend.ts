import { randomBytes } from 'node:crypto';
import type { StoreConfig } from '../../config/schema.js';
import { LocoError, QueueConnectionError } from '../../errors.js';
import {
  type BackendCapabilities,
  type ClaimedJob,
  type ClaimRequest,
  type EnqueueRequest,
  type EnqueueResult,
  type InitOptions,
  initOnce,
  JOB_STATUSES,
  type JobCount,
  type JobOutcome,
  type JobQuery,
  type JobRecord,
  type JobStatus,
  type NewJob,
  type PauseTarget,
  type QueueBackend,
  type RemoveQuery,
  type RetryQuery,
  type SpaceReport,
  type StoreOptions,
  type WorkerLimits,
} from '../backend.js';
import { isPlainCompletion, LEASE_EXPIRED_ERROR } from '../outcome.js';
import { foldKeys, unfoldResults } from '../unique.js';
import { Wakeup } from '../wakeup.js';
import { createConnection } from './connect.js';
import { connectionError, databaseError, scriptError } from './errors.js';
import { deleteQueueKeys, type Lane, laneId, parseLane, type RedisClient, RedisKeys } from './keys.js';
import { upgradeLayout } from './layout.js';
import { defineScripts, runScript } from './scripts.js';
import { parseRedisUri, type RedisLocation } from './uri.js';

/** Wake tokens kept in the wake list: how many idle workers one enqueue can wake at once. */
const WAKE_TOKENS_MAX = 32;
/** Jobs the reaper moves and `remove` deletes per script call, so Redis is never held for long. */
const BATCH = 1000;
/** Job records `list` fetches per pipeline. */
const FETCH_CHUNK = 500;

/**
 * The Redis backend (ioredis). Jobs are hashes; queued jobs wait in per-lane sorted sets (a lane
 * is a queue, a job name, a tag set and a priority) so a claim reads only the lanes its process may take
 * from; every state change is one Lua script, so claims are atomic across processes and each
 * enqueue, claim batch and finish batch is one round trip (a claim also applies the outcomes the
 * worker has waiting, saving their own call). Idle workers block on a wake list
 * (BLPOP on a connection of their own). The key layout is described in `redis/keys.ts`.
 *
 * Needs Redis 6.2 or later (SET ... GET, BLPOP with a fractional timeout). Works on one server
 * and on a Redis Cluster (`redis+cluster://`): every key of a queue starts with the hash tag
 * `{<prefix>}`, so all of them, and every key a script builds, lie in one slot.
 */
export class RedisBackend implements QueueBackend {
  readonly kind = 'Redis';
  readonly capabilities: BackendCapabilities = {
    durable: true,
    shared: true,
    transactions: false,
    finishInClaim: true,
  };
  readonly display: string;
  private readonly location: RedisLocation;
  private readonly keys: RedisKeys;
  private readonly queuesJson: string;
  private readonly connectTimeoutMs: number;
  /** Identifies this backend's calls, so that a call ioredis resends after a reconnect is recognised. */
  private readonly client = randomBytes(9).toString('base64url');
  private claimSeq = 0;
  /** Claim slots made so far, and those not in use: one per claim in flight (`claimed:<client>:<slot>`). */
  private claimSlots = 0;
  private readonly freeClaimSlots: number[] = [];
  private enqueueSeq = 0;
  private tickSeq = 0;
  private redis!: RedisClient;
  /** The connection idle workers block on (BLPOP), opened on the first wait. */
  private blocker: RedisClient | undefined;
  private blocking: Promise<void> | undefined;
  /** Workers waiting now, and when the longest of their waits ends (0 when none waits). */
  private waiting = 0;
  private waitDeadline = 0;
  private readonly wakeup = new Wakeup();
  /** When the next job not yet due becomes due (from the last claim and from this process's writes). */
  private nextDue: number | undefined;
  private connected = false;
  private closed = false;
  /** The latest failed (re)connection: what an enqueue during an outage reports. */
  private lastConnectError: Error | undefined;
  /** While calls wait for a reconnect: true once connected, false after `queue.connect_timeout`. */
  private reconnected: Promise<boolean> | undefined;
  private readonly lanes = new Map<string, Lane>();
  /** Names with concurrency limits seen in claims: a job of one that ends wakes an idle worker. */
  private readonly limitedNames = new Set<string>();

  constructor(config: StoreConfig, _options: StoreOptions) {
    this.location = parseRedisUri(config.uri);
    this.display = this.location.display;
    this.keys = new RedisKeys(this.location.prefix);
    this.queuesJson = JSON.stringify(config.queues);
    this.connectTimeoutMs = this.location.options.connectTimeout ?? config.connect_timeout;
  }

  /** The name this backend's connections show in `CLIENT LIST`: `loco:<prefix>`, and `loco:<prefix>:wait` for the blocking one. */
  get connectionName(): string {
    return `loco:${this.location.prefix}`.replace(/[^\x21-\x7e]/g, '_');
  }

  async init(options: InitOptions): Promise<void> {
    initOnce(this);
    const redis = createConnection(this.location, {
      connectionName: this.connectionName,
      connectTimeout: this.connectTimeoutMs,
      // Until the first connection succeeds, one failure is final (init reports it); afterwards a
      // dropped connection is retried with backoff and unanswered commands are sent again.
      retryStrategy: (times) => (this.connected && !this.closed ? Math.min(times * 50, 2000) : null),
    });
    // ioredis reports every failed (re)connection attempt here, and prints it when nobody listens.
    // Init reports the first one; later, the commands that fail carry the error to their callers
    // (the worker loop logs failed claims), so the attempts themselves need no log line each.
    let connectError: Error | undefined;
    redis.on('error', (err: Error) => {
      connectError ??= err;
      this.lastConnectError = err;
    });
    defineScripts(redis);
    this.redis = redis;
    try {
      await withDeadline(redis.connect(), this.connectTimeoutMs, `no answer within ${this.connectTimeoutMs} ms`);
    } catch (err) {
      redis.disconnect();
      throw connectionError(connectError ?? (err as Error), this.location);
    }
    try {
      // ioredis selects the database on connecting but only reports a refusal as an 'error' event,
      // then goes on in database 0: select it again here, where a refusal stops init.
      if (this.location.db !== 0) await redis.select(this.location.db);
    } catch (err) {
      redis.disconnect();
      throw databaseError(err, this.location.db, this.location.display);
    }
    this.connected = true;
    if (options.flush) await deleteQueueKeys(redis, this.keys.prefix);
    await upgradeLayout(redis, this.keys, this.location.display, options.create !== false);
  }

  async enqueue(jobs: NewJob[], request: EnqueueRequest = {}): Promise<EnqueueResult[]> {
    if (jobs.length === 0) return [];
    if (request.transaction !== undefined) {
      throw new LocoError(
        'Enqueue in a transaction: the Redis queue cannot write inside an app transaction; only the Postgres and ' +
          'SQLite queues can. Enqueue after your commit instead.',
      );
    }
    const onConflict = request.onConflict ?? 'keep';
    const folded = foldKeys(jobs, onConflict);
    const now = Date.now();
    const args: Array<string | number> = [
      this.keys.base,
      now,
      `${this.client}:${++this.enqueueSeq}`,
      WAKE_TOKENS_MAX,
      onConflict,
    ];
    let soonest = Infinity;
    let dueNow = false;
    for (const job of folded.jobs) {
      // The per-job values of enqueue.lua: the fields every job has, then the rest in one value.
      args.push(
        job.id,
        job.name,
        laneId(job.queue, job.name, job.tags, job.priority),
        JSON.stringify(job.task_data) ?? 'null',
        job.run_at,
        job.max_attempts,
        job.key ?? '',
        rareFields(job),
      );
      if (job.run_at > now) soonest = Math.min(soonest, job.run_at);
      else dueNow = true;
    }
    await this.whenConnected('enqueue');
    let reply: Array<number | string>;
    try {
      const added = runScript(this.redis, 'enqueue', [this.keys.lanes, this.keys.names, this.keys.wake], args);
      // A worker loop of this process that waits for work claims at once: its claim goes out on
      // this connection right behind the enqueue, so Redis runs it after the jobs are in, and the
      // job starts one round trip sooner than through the wake list.
      if (dueNow && this.waiting > 0) this.wakeup.notify();
      reply = (await added) as Array<number | string>;
    } catch (err) {
      if (isConnectionFailure(err)) throw this.outageError('enqueue', err as Error, true);
      throw scriptError(err, this.location.display);
    }
    this.noteDue(soonest);
    // The script lists only the jobs that matched a live job (by place, from 1); the rest were added.
    const results = folded.jobs.map((job): EnqueueResult => ({ id: job.id, added: true }));
    for (let i = 0; i < reply.length; i += 2)
      results[(reply[i] as number) - 1] = { id: String(reply[i + 1]), added: false };
    return unfoldResults(folded, results);
  }

  /**
   * Resolves once the connection is up, waiting at most `queue.connect_timeout` while ioredis
   * reconnects: a call made during an outage then fails in bounded time with a
   * `QueueConnectionError` instead of waiting through ioredis' retries of the command.
   */
  private async whenConnected(action: string): Promise<void> {
    if (this.redis.status === 'ready' || this.closed) return;
    // One wait shared by every call made during the outage (one listener, not one per call).
    this.reconnected ??= new Promise<boolean>((resolve) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        resolve(false);
      }, this.connectTimeoutMs);
      this.redis.once('ready', onReady);
    }).finally(() => {
      this.reconnected = undefined;
    });
    if (!(await this.reconnected)) throw this.outageError(action, this.lastConnectError, false);
  }

  /** The error of a call the server could not be reached for, worded as boot's. */
  private outageError(action: string, cause: Error | undefined, sent: boolean): QueueConnectionError {
    const reason = cause?.message.replace(/\.$/, '') ?? `not reconnected within ${this.connectTimeoutMs} ms`;
    return new QueueConnectionError(
      `Cannot connect to the Redis queue at ${this.location.display} to ${action}: ${reason} ` +
        `(waited ${this.connectTimeoutMs} ms, queue.connect_timeout). ` +
        (sent
          ? 'The connection dropped with the call in flight, so it may or may not have been applied. '
          : 'Nothing was written. ') +
        'Check that the server is running and queue.uri is right; workers reconnect by themselves once it is back.',
      { cause },
    );
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    if (request.limit <= 0 || request.names.length === 0) {
      if (request.finish) await this.finish(request.finish);
      return [];
    }
    // Each claim in flight keeps its token under a key of its own, so that a resent claim finds
    // its jobs even while another claim of this client runs beside it.
    const slot = this.freeClaimSlots.pop() ?? this.claimSlots++;
    try {
      return await this.claimIn(`${this.client}:${slot}`, request);
    } finally {
      this.freeClaimSlots.push(slot);
    }
  }

  private async claimIn(claimant: string, request: ClaimRequest): Promise<ClaimedJob[]> {
    // Outcomes that come with the claim are applied by its script first (`finishInClaim`); the
    // next due time in its reply counts the jobs they queue again.
    const finishing = outcomeArgs(request.finish ?? [], this.limitedNames);
    const reply = (await runScript(
      this.redis,
      'claim',
      [
        this.keys.lanes,
        this.keys.leases,
        this.keys.claimed(claimant),
        this.keys.paused,
        this.keys.running,
        this.keys.wake,
      ],
      [
        this.keys.base,
        request.now,
        request.now + request.leaseMs,
        request.limit,
        JSON.stringify(request.names),
        JSON.stringify(request.tags),
        request.anyTag ? '1' : '0',
        this.queuesJson,
        `${this.client}:${++this.claimSeq}`,
        Math.max(1, Math.ceil(request.leaseMs)),
        request.limits ? limitsJson(request.limits) : '',
        WAKE_TOKENS_MAX,
        finishing.freed,
        ...finishing.args,
      ],
    )) as Array<string | number>;
    for (const [name, limit] of Object.entries(request.limits ?? {}))
      if (limit.concurrency) this.limitedNames.add(name);
    // Sleep until the next job is due, or a rate window without room opens, whichever comes first.
    const due = [reply[0], reply[1]].filter((at) => at !== '-1').map(Number);
    this.nextDue = due.length > 0 ? Math.min(...due) : undefined;
    // Then runs of jobs of one lane: the lane, how many, and 6 values per job (claim.lua).
    const jobs: ClaimedJob[] = [];
    for (let i = 2; i < reply.length; ) {
      const lane = this.lane(reply[i] as string);
      const end = i + 2 + 6 * Number(reply[i + 1]);
      for (i += 2; i < end; i += 6) {
        const interval = reply[i + 3];
        const traceparent = reply[i + 5] as string;
        jobs.push({
          id: reply[i] as string,
          name: lane.name,
          task_data: JSON.parse(reply[i + 2] as string),
          interval: interval === '' ? null : Number(interval),
          tags: [...lane.tags],
          queue: lane.queue,
          priority: lane.priority,
          attempts: Number(reply[i + 1]),
          max_attempts: Number(reply[i + 4]),
          traceparent: traceparent === '' ? null : traceparent,
        });
      }
    }
    return jobs;
  }

  async finish(outcomes: JobOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    const { args, freed, soonest } = outcomeArgs(outcomes, this.limitedNames);
    await runScript(
      this.redis,
      'finish',
      [this.keys.leases, this.keys.lanes, this.keys.wake],
      [this.keys.base, Date.now(), WAKE_TOKENS_MAX, freed, ...args],
    );
    this.noteDue(soonest);
  }

  async heartbeat(ids: string[], leaseUntil: number): Promise<void> {
    if (ids.length === 0) return;
    const args: Array<string | number> = [this.keys.leases, 'XX'];
    for (const id of ids) args.push(leaseUntil, id);
    // XX: only jobs still holding a lease; a finished job is not given one back.
    await this.redis.call('ZADD', args);
  }

  async reapExpired(now: number): Promise<number> {
    let moved = 0;
    for (;;) {
      const [count, examined] = (await runScript(
        this.redis,
        'reap',
        [this.keys.leases, this.keys.lanes, this.keys.wake],
        [this.keys.base, now, BATCH, WAKE_TOKENS_MAX, LEASE_EXPIRED_ERROR],
      )) as [number, number];
      moved += count;
      if (examined < BATCH) return moved;
    }
  }

  async waitForWork(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.closed) return;
    const wait = this.nextDue === undefined ? timeoutMs : Math.min(timeoutMs, this.nextDue - Date.now());
    if (wait <= 0) return;
    this.waiting += 1;
    this.waitDeadline = Math.max(this.waitDeadline, Date.now() + wait);
    try {
      this.listen();
      await this.wakeup.wait(wait, signal);
    } finally {
      this.waiting -= 1;
      if (this.waiting === 0) this.waitDeadline = 0;
    }
  }

  /**
   * Keeps one BLPOP on the wake list in flight while a worker waits, blocking until the wait ends.
   * A token it pops wakes the waiting worker, or the next one to wait if it had stopped waiting
   * (timeout or abort), so a wake-up is never dropped on the floor; a BLPOP left from an earlier,
   * shorter wait that times out is followed by another. Tokens pushed while nobody blocks stay
   * in the list, for the next wait.
   */
  private listen(): void {
    const remaining = this.waitDeadline - Date.now();
    if (this.blocking || this.closed || remaining < 1) return;
    this.blocker ??= this.openBlocker();
    this.blocking = this.blocker.blpop(this.keys.wake, Math.ceil(remaining) / 1000).then(
      (popped) => {
        this.blocking = undefined;
        if (popped) this.wakeup.notify();
        else this.listen();
      },
      () => {
        // The blocking connection failed for good or was closed: the wait ends on its timer, and
        // the next claim, on the main connection, reports a lasting problem to the loop.
        this.blocking = undefined;
      },
    );
  }

  private openBlocker(): RedisClient {
    const blocker = createConnection(this.location, {
      connectionName: `${this.connectionName}:wait`,
      connectTimeout: this.connectTimeoutMs,
      retryStrategy: (times) => (this.closed ? null : Math.min(times * 50, 2000)),
    });
    // Failed reconnection attempts: see init(); a BLPOP that fails is handled in listen().
    blocker.on('error', () => undefined);
    return blocker;
  }

  async claimTick(schedule: string, tickAt: number, holdMs: number): Promise<boolean> {
    const expiresAt = Math.floor(tickAt + holdMs);
    if (expiresAt <= Date.now()) return false;
    const key = this.keys.tick(schedule, Math.floor(tickAt));
    const token = `${this.client}:${++this.tickSeq}`;
    if ((await this.redis.set(key, token, 'PXAT', expiresAt, 'NX')) === 'OK') return true;
    // ioredis resends a command whose reply a dropped connection lost: the key may hold this
    // very call's token, set by the first send.
    return (await this.redis.get(key)) === token;
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.blocker?.disconnect();
    this.wakeup.notify();
    if (!this.redis) return;
    if (this.redis.status !== 'ready') {
      this.redis.disconnect();
      return;
    }
    const slots = Array.from({ length: this.claimSlots }, (_, slot) => this.keys.claimed(`${this.client}:${slot}`));
    if (slots.length > 0) await this.redis.del(...slots);
    await this.redis.quit();
  }

  async list(query: JobQuery): Promise<JobRecord[]> {
    const statuses = query.statuses ?? JOB_STATUSES;
    const found = (await runScript(this.redis, 'list', this.indexKeys(), [
      this.keys.base,
      JSON.stringify(statuses),
      query.name ?? '',
      query.updatedBefore ?? '',
    ])) as string[];
    let ids = [...new Set(found)].sort();
    if (query.limit !== undefined) ids = ids.reverse().slice(0, Math.max(0, Math.floor(query.limit)));

    const records: JobRecord[] = [];
    for (let start = 0; start < ids.length; start += FETCH_CHUNK) {
      const chunk = ids.slice(start, start + FETCH_CHUNK);
      const fetch = this.redis.pipeline();
      for (const id of chunk) fetch.hgetall(this.keys.job(id)).zscore(this.keys.leases, id);
      const replies = await execPipeline(fetch);
      chunk.forEach((id, n) => {
        const hash = replies[2 * n] as Record<string, string>;
        const lease = replies[2 * n + 1] as string | null;
        // The job may have moved on since its id was read: check it against the query again.
        if (!hash.status) return;
        const record = this.toRecord(id, hash, lease);
        if (!statuses.includes(record.status)) return;
        if (query.name !== undefined && record.name !== query.name) return;
        if (query.updatedBefore !== undefined && record.updated_at >= query.updatedBefore) return;
        records.push(record);
      });
    }
    return records;
  }

  async pause(target: PauseTarget): Promise<boolean> {
    return (await this.redis.sadd(this.keys.paused, pauseMember(target))) === 1;
  }

  async resume(target: PauseTarget): Promise<boolean> {
    const resumed = (await this.redis.srem(this.keys.paused, pauseMember(target))) === 1;
    if (resumed) {
      await this.redis.lpush(this.keys.wake, '1');
      this.wakeup.notify();
    }
    return resumed;
  }

  async paused(): Promise<PauseTarget[]> {
    return (await this.redis.smembers(this.keys.paused))
      .map((member): PauseTarget => {
        const at = member.indexOf(':');
        return { kind: member.slice(0, at) as PauseTarget['kind'], name: member.slice(at + 1) };
      })
      .sort((a, b) => compare(a.kind, b.kind) || compare(a.name, b.name));
  }

  async get(id: string): Promise<JobRecord | null> {
    const [hash, lease] = (await execPipeline(
      this.redis.pipeline().hgetall(this.keys.job(id)).zscore(this.keys.leases, id),
    )) as [Record<string, string>, string | null];
    return hash.status ? this.toRecord(id, hash, lease) : null;
  }

  async retry(query: RetryQuery): Promise<number> {
    const run = (ids: string) =>
      runScript(
        this.redis,
        'retry',
        [this.keys.lanes, this.keys.names, this.keys.wake],
        [this.keys.base, Date.now(), JSON.stringify(query.statuses), ids, query.name ?? '', BATCH, WAKE_TOKENS_MAX],
      ) as Promise<number>;
    let moved = 0;
    if (query.ids) {
      for (let start = 0; start < query.ids.length; start += BATCH) {
        moved += await run(JSON.stringify(query.ids.slice(start, start + BATCH)));
      }
    } else {
      for (;;) {
        const count = await run('');
        moved += count;
        if (count < BATCH) break;
      }
    }
    if (moved > 0) this.noteDue(Date.now());
    return moved;
  }

  async stats(): Promise<JobCount[]> {
    const reply = (await runScript(this.redis, 'stats', this.indexKeys(), [this.keys.base])) as Array<string | number>;
    const rows: JobCount[] = [];
    for (let i = 0; i < reply.length; i += 3) {
      rows.push({ name: String(reply[i]), status: reply[i + 1] as JobStatus, count: Number(reply[i + 2]) });
    }
    return rows.sort((a, b) => compare(a.name, b.name) || compare(a.status, b.status));
  }

  async cancel(name: string, ids?: string[]): Promise<number> {
    if (ids?.length === 0) return 0;
    return (await runScript(
      this.redis,
      'cancel',
      [this.keys.lanes],
      [this.keys.base, Date.now(), name, ids ? JSON.stringify(ids) : ''],
    )) as number;
  }

  async reclaimSpace(): Promise<SpaceReport> {
    return {
      before: null,
      after: null,
      note: 'Redis frees the memory of deleted jobs at once (UNLINK); its memory is shared with other data, so no size is shown.',
    };
  }

  async remove(query: RemoveQuery): Promise<number> {
    if (query.statuses.length === 0) return 0;
    const run = (ids: string) =>
      runScript(this.redis, 'remove', this.indexKeys(), [
        this.keys.base,
        JSON.stringify(query.statuses),
        query.updatedBefore ?? '',
        ids,
        BATCH,
      ]) as Promise<number>;
    let removed = 0;
    if (query.ids) {
      for (let start = 0; start < query.ids.length; start += BATCH) {
        removed += await run(JSON.stringify(query.ids.slice(start, start + BATCH)));
      }
      return removed;
    }
    for (;;) {
      const count = await run('');
      removed += count;
      if (count < BATCH) return removed;
    }
  }

  async requeue(updatedBefore: number): Promise<number> {
    return (await runScript(
      this.redis,
      'requeue',
      [this.keys.leases, this.keys.lanes, this.keys.wake],
      [this.keys.base, Date.now(), updatedBefore, WAKE_TOKENS_MAX],
    )) as number;
  }

  /** The keys through which the operator scripts find jobs of every status. */
  private indexKeys(): string[] {
    return [this.keys.lanes, this.keys.leases, this.keys.names];
  }

  /**
   * A job this process wrote becomes due at `at`. When that is sooner than the wait in progress
   * (or the next one) would last, the wait ends so the loop claims again and learns the new time.
   */
  private noteDue(at: number): void {
    if (at === Infinity || (this.nextDue !== undefined && at >= this.nextDue)) return;
    this.nextDue = at;
    this.wakeup.notify();
  }

  private lane(id: string): Lane {
    let lane = this.lanes.get(id);
    if (!lane) {
      if (this.lanes.size >= 10_000) this.lanes.clear();
      lane = parseLane(id);
      this.lanes.set(id, lane);
    }
    return lane;
  }

  private toRecord(id: string, hash: Record<string, string>, lease: string | null): JobRecord {
    const lane = this.lane(hash.lane);
    const status = hash.status as JobStatus;
    return {
      id,
      name: hash.name,
      task_data: JSON.parse(hash.task_data),
      status,
      run_at: Number(hash.run_at),
      interval: hash.interval === undefined ? null : Number(hash.interval),
      tags: [...lane.tags],
      queue: lane.queue,
      priority: lane.priority,
      key: hash.key ?? null,
      attempts: Number(hash.attempts),
      max_attempts: Number(hash.max_attempts),
      traceparent: hash.traceparent ?? null,
      last_error: hash.last_error ?? null,
      lease_until: status === 'processing' && lease !== null ? Number(lease) : null,
      created_at: Number(hash.created_at),
      updated_at: Number(hash.updated_at),
    };
  }
}

/**
 * The arguments of outcomes for finish.lua and claim.lua (none for no outcomes; else the number of
 * plain completions, 2 values for each, then 7 for each other outcome); how many are of names with a
 * concurrency limit (a job of one that ends frees a slot another worker may wait for); and the
 * soonest run_at of the jobs they queue again.
 */
function outcomeArgs(
  outcomes: JobOutcome[],
  limitedNames: ReadonlySet<string>,
): { args: Array<string | number>; freed: number; soonest: number } {
  const completed: Array<string | number> = [];
  const others: Array<string | number> = [];
  let freed = 0;
  let soonest = Infinity;
  for (const outcome of outcomes) {
    if (isPlainCompletion(outcome)) {
      completed.push(outcome.id, outcome.attempts);
    } else {
      const error =
        outcome.error === undefined ? ['keep', ''] : outcome.error === null ? ['clear', ''] : ['set', outcome.error];
      others.push(outcome.id, outcome.attempts, outcome.status, outcome.runAt ?? '', outcome.nextAttempts, ...error);
    }
    if (limitedNames.has(outcome.name)) freed += 1;
    if (outcome.status === 'queued' && outcome.runAt !== null) soonest = Math.min(soonest, outcome.runAt);
  }
  const args = outcomes.length === 0 ? [] : [completed.length / 2, ...completed, ...others];
  return { args, freed, soonest };
}

/** A pause as a member of the `paused` set: `worker:<name>` or `queue:<name>`. */
function pauseMember(target: PauseTarget): string {
  return `${target.kind}:${target.name}`;
}

/** Limits as the claim script reads them: name -> { concurrency, rate_max, rate_ms }. */
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

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Runs a pipeline and returns its replies, throwing the first error. */
async function execPipeline(pipeline: ReturnType<RedisClient['pipeline']>): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** Whether ioredis failed a command because the server could not be reached (not because the command failed). */
function isConnectionFailure(err: unknown): boolean {
  const message = err instanceof Error ? err.message : '';
  return /max retries per request|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND/i.test(
    message,
  );
}

/** `promise`, or a rejection with `message` after `ms`. */
function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * The fields of a new job that few jobs have, as enqueue.lua takes them: '' when it has none,
 * else a JSON object of strings. A job restored from a dump brings its status, attempts, last
 * error and times; one restored while `processing` comes back `queued`.
 */
function rareFields(job: NewJob): string {
  const fields: Record<string, string> = {};
  if (job.interval !== null) fields.interval = String(job.interval);
  if (job.concurrency_key !== null) fields.ckey = job.concurrency_key;
  if (job.traceparent) fields.traceparent = job.traceparent;
  if (job.created_at !== undefined) fields.created_at = String(job.created_at);
  const restored = job.restore;
  if (restored) {
    fields.status = restored.status === 'processing' ? 'queued' : restored.status;
    fields.attempts = String(restored.attempts);
    if (restored.last_error) fields.last_error = restored.last_error;
    fields.updated_at = String(restored.updated_at);
  }
  return Object.keys(fields).length === 0 ? '' : JSON.stringify(fields);
}
