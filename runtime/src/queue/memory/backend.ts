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
  type PauseTarget,
  type QueueBackend,
  type RemoveQuery,
  type RetryQuery,
  type SpaceReport,
  type WorkerLimits,
} from '../backend.js';
import { ClaimBudget, type NameUsage } from '../limits.js';
import { claimOrder } from '../order.js';
import { LEASE_EXPIRED_ERROR } from '../outcome.js';
import { tagsMatch } from '../tags.js';
import { foldKeys, unfoldResults } from '../unique.js';
import { Wakeup } from '../wakeup.js';
import { Heap } from './heap.js';

/** Finished jobs kept for `list`/`stats` before the oldest are dropped, so a long-lived process does not grow. */
const FINISHED_KEPT = 1000;

/**
 * A queued job's place: `version` is the job's queue version when it was placed, so places left
 * behind by a job that moved (claimed, replaced, cancelled) are skipped when met.
 */
interface Place {
  id: string;
  version: number;
  run_at: number;
  priority: number;
}

/** A job as this store keeps it: the record, and the concurrency key its limit counts it under. */
type StoredJob = JobRecord & { concurrency_key: string | null };

/** The due jobs of one name, tag set and queue, in claim order: a claim reads only the lanes it may take from. */
interface Lane {
  name: string;
  tags: string[];
  queue: string | null;
  ready: Heap<Place>;
}

/**
 * The in-process backend behind `BackgroundAsync`: jobs live in this process's memory only,
 * so they are lost on exit and cannot be shared with other processes. Queued jobs wait in a
 * heap by run time until due, then in a heap in claim order.
 */
export class InProcessBackend implements QueueBackend {
  readonly kind = 'InProcess';
  readonly display = 'in-process';
  readonly capabilities: BackendCapabilities = {
    durable: false,
    shared: false,
    transactions: false,
    finishInClaim: true,
  };
  private readonly jobs = new Map<string, StoredJob>();
  /** Queued jobs by id, with their queue version. */
  private readonly queued = new Map<string, number>();
  private versions = 0;
  /** Live jobs (queued or processing) by `name \0 key`. */
  private readonly keys = new Map<string, string>();
  private readonly delayed = new Heap<Place>((a, b) => a.run_at < b.run_at || (a.run_at === b.run_at && a.id < b.id));
  private readonly lanes = new Map<string, Lane>();
  /** Processing jobs by `name \0 concurrency key`, for concurrency limits. */
  private readonly running = new Map<string, number>();
  /** Start times within the rate window, by name, oldest first, for rate limits. */
  private readonly starts = new Map<string, number[]>();
  private readonly pauses = new Set<string>();
  /** When a rate window that ran out of starts opens again. */
  private reopensAt: number | undefined;
  /** Ids of finished jobs, a ring of the last FINISHED_KEPT: `finishedNext` is where the next goes. */
  private readonly finished: string[] = [];
  private finishedNext = 0;
  private readonly wakeup = new Wakeup();
  /** Claimed ticks (`schedule` NUL `tickAt`) and when each may be pruned, in claim order. */
  private readonly ticks = new Map<string, number>();

  async init(options: InitOptions): Promise<void> {
    initOnce(this);
    if (options.flush) {
      this.jobs.clear();
      this.queued.clear();
      this.keys.clear();
      this.delayed.clear();
      this.lanes.clear();
      this.running.clear();
      this.starts.clear();
      this.finished.length = 0;
      this.finishedNext = 0;
    }
  }

  async enqueue(jobs: NewJob[], request: EnqueueRequest = {}): Promise<EnqueueResult[]> {
    if (request.transaction !== undefined) {
      throw new Error(
        'The in-process queue has no transactions to enqueue in; only the Postgres and SQLite queues do.',
      );
    }
    const onConflict = request.onConflict ?? 'keep';
    const folded = foldKeys(jobs, onConflict);
    const now = Date.now();
    const results = folded.jobs.map((job): EnqueueResult => {
      const restored =
        job.restore?.status === 'processing' ? { ...job.restore, status: 'queued' as const } : job.restore;
      const status = restored?.status ?? 'queued';
      if (job.key !== null && status === 'queued') {
        const holder = this.jobs.get(this.keys.get(keyOf(job.name, job.key)) ?? '');
        if (holder?.status === 'queued') {
          if (onConflict === 'replace') {
            holder.task_data = job.task_data;
            holder.updated_at = now;
            this.place(holder, job.run_at);
          }
          return { id: holder.id, added: false };
        }
        if (holder) holder.key = null;
      }
      // Every field written here, in one order: records of one shape keep property reads fast.
      const record: StoredJob = {
        id: job.id,
        name: job.name,
        task_data: job.task_data,
        status,
        run_at: job.run_at,
        interval: job.interval,
        tags: [...job.tags],
        queue: job.queue,
        priority: job.priority,
        key: job.key,
        attempts: restored?.attempts ?? 0,
        max_attempts: job.max_attempts,
        last_error: restored?.last_error ?? null,
        lease_until: null,
        created_at: job.created_at ?? now,
        updated_at: restored?.updated_at ?? now,
        traceparent: job.traceparent ?? null,
        concurrency_key: job.concurrency_key,
      };
      this.jobs.set(job.id, record);
      if (status === 'queued') {
        if (job.key !== null) this.keys.set(keyOf(job.name, job.key), job.id);
        this.place(record, job.run_at);
      } else {
        this.noteFinished(job.id);
      }
      return { id: job.id, added: true };
    });
    this.wakeup.notify();
    return unfoldResults(folded, results);
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    if (request.finish) this.record(request.finish);
    for (let top = this.delayed.peek(); top && top.run_at <= request.now; top = this.delayed.peek()) {
      this.delayed.pop();
      if (this.queued.get(top.id) !== top.version) continue;
      this.laneOf(this.jobs.get(top.id)!).ready.push(top);
    }
    const limits = request.limits ?? {};
    const budget = new ClaimBudget(limits, this.usage(limits, request.now));
    const lanes: Lane[] = [];
    for (const lane of this.lanes.values()) {
      if (request.names.includes(lane.name) && tagsMatch(request, lane.tags) && !this.isPaused(lane)) lanes.push(lane);
    }
    const held: Array<[Lane, Place]> = [];
    /** The lane's first job this claim may take; jobs over a limit are held aside until the claim ends. */
    const headOf = (lane: Lane): Place | undefined => {
      for (let top = lane.ready.peek(); top; top = lane.ready.peek()) {
        if (this.queued.get(top.id) !== top.version) lane.ready.pop();
        else if (budget.allows(lane.name, this.jobs.get(top.id)!.concurrency_key)) return top;
        else if (budget.room(lane.name) <= 0) return undefined;
        else held.push([lane, lane.ready.pop()!]);
      }
      return undefined;
    };
    const claimed: ClaimedJob[] = [];
    while (claimed.length < request.limit) {
      let bestLane: Lane | undefined;
      let best: Place | undefined;
      for (const lane of lanes) {
        const place = headOf(lane);
        if (place && (!best || claimOrder(place, best) < 0)) {
          bestLane = lane;
          best = place;
        }
      }
      if (!bestLane || !best) break;
      bestLane.ready.pop();
      const job = this.jobs.get(best.id)!;
      budget.take(job.name, job.concurrency_key);
      claimed.push(this.start(job, request));
    }
    for (const [lane, place] of held) lane.ready.push(place);
    this.reopensAt = budget.reopensAt(request.now);
    return claimed;
  }

  /** Whether the lane's worker name or queue is paused. */
  private isPaused(lane: Lane): boolean {
    if (this.pauses.size === 0) return false;
    if (this.pauses.has(pauseId({ kind: 'worker', name: lane.name }))) return true;
    return lane.queue !== null && this.pauses.has(pauseId({ kind: 'queue', name: lane.queue }));
  }

  /** A queued job becomes processing under a lease, counted against its limits. */
  private start(job: StoredJob, request: ClaimRequest): ClaimedJob {
    this.queued.delete(job.id);
    job.status = 'processing';
    job.attempts += 1;
    job.lease_until = request.now + request.leaseMs;
    job.updated_at = request.now;
    this.count(job, 1);
    if (request.limits?.[job.name]?.rate)
      this.starts.get(job.name)?.push(request.now) ?? this.starts.set(job.name, [request.now]);
    return {
      id: job.id,
      name: job.name,
      task_data: structuredClone(job.task_data),
      interval: job.interval,
      tags: [...job.tags],
      queue: job.queue,
      priority: job.priority,
      attempts: job.attempts,
      max_attempts: job.max_attempts,
      traceparent: job.traceparent,
    };
  }

  /** What is running and what started in the rate window, for the names with limits. */
  private usage(limits: Record<string, WorkerLimits>, now: number): Map<string, NameUsage> {
    const usage = new Map<string, NameUsage>();
    for (const [name, limit] of Object.entries(limits)) {
      const starts = this.starts.get(name) ?? [];
      if (limit.rate) {
        const first = starts.findIndex((at) => at > now - limit.rate!.perMs);
        starts.splice(0, first === -1 ? starts.length : first);
      }
      const runningByKey = new Map<string | null, number>();
      for (const [id, count] of this.running) {
        const [jobName, key] = id.split('\0');
        if (jobName === name) runningByKey.set(key === '' ? null : key.slice(1), count);
      }
      usage.set(name, { runningByKey, starts });
    }
    return usage;
  }

  /** Counts a job in or out of its name's running jobs. */
  private count(job: StoredJob, delta: 1 | -1): void {
    const id = `${job.name}\0${job.concurrency_key === null ? '' : `k${job.concurrency_key}`}`;
    const count = (this.running.get(id) ?? 0) + delta;
    if (count > 0) this.running.set(id, count);
    else this.running.delete(id);
  }

  /** The lane a queued job waits in. */
  private laneOf(job: StoredJob): Lane {
    // Names, queues and tags hold no NUL (job-limits.ts), and a queue name is never empty.
    const id = `${job.name}\0${job.queue ?? ''}\0${job.tags.join('\0')}`;
    let lane = this.lanes.get(id);
    if (!lane) {
      lane = {
        name: job.name,
        tags: job.tags,
        queue: job.queue,
        ready: new Heap<Place>((a, b) => claimOrder(a, b) < 0),
      };
      this.lanes.set(id, lane);
    }
    return lane;
  }

  async pause(target: PauseTarget): Promise<boolean> {
    const before = this.pauses.size;
    this.pauses.add(pauseId(target));
    return this.pauses.size > before;
  }

  async resume(target: PauseTarget): Promise<boolean> {
    const resumed = this.pauses.delete(pauseId(target));
    if (resumed) this.wakeup.notify();
    return resumed;
  }

  async paused(): Promise<PauseTarget[]> {
    return [...this.pauses]
      .map((id) => JSON.parse(id) as PauseTarget)
      .sort((a, b) => (a.kind === b.kind ? (a.name < b.name ? -1 : 1) : a.kind < b.kind ? -1 : 1));
  }

  async finish(outcomes: JobOutcome[]): Promise<void> {
    this.record(outcomes);
  }

  private record(outcomes: JobOutcome[]): void {
    const now = Date.now();
    for (const outcome of outcomes) {
      const job = this.jobs.get(outcome.id);
      if (job?.status !== 'processing' || job.attempts !== outcome.attempts) continue;
      job.updated_at = now;
      job.lease_until = null;
      job.attempts = outcome.nextAttempts;
      if (outcome.error !== undefined) job.last_error = outcome.error;
      if (outcome.status === 'queued') this.backInQueue(job, outcome.runAt ?? job.run_at);
      else this.settle(job, outcome.status);
    }
  }

  async heartbeat(ids: string[], leaseUntil: number): Promise<void> {
    for (const id of ids) {
      const job = this.jobs.get(id);
      if (job?.status === 'processing') job.lease_until = leaseUntil;
    }
  }

  async reapExpired(now: number): Promise<number> {
    let moved = 0;
    for (const job of this.jobs.values()) {
      if (job.status === 'processing' && job.lease_until !== null && job.lease_until < now) {
        job.updated_at = now;
        job.lease_until = null;
        job.last_error = LEASE_EXPIRED_ERROR;
        // Back at its own place: its run_at, so jobs queued since do not overtake it.
        if (job.attempts < job.max_attempts) this.backInQueue(job, job.run_at);
        else this.settle(job, 'failed');
        moved += 1;
      }
    }
    return moved;
  }

  waitForWork(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const reopens = this.reopensAt === undefined ? timeoutMs : Math.max(0, this.reopensAt - Date.now());
    return this.wakeup.wait(Math.min(timeoutMs, reopens), signal);
  }

  async claimTick(schedule: string, tickAt: number, holdMs: number): Promise<boolean> {
    const now = Date.now();
    // Claims come roughly in time order, so the expired ones are at the front of the map.
    for (const [key, expiresAt] of this.ticks) {
      if (expiresAt > now) break;
      this.ticks.delete(key);
    }
    const key = `${schedule}\0${tickAt}`;
    if (tickAt + holdMs <= now || this.ticks.has(key)) return false;
    this.ticks.set(key, tickAt + holdMs);
    return true;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.wakeup.notify();
  }

  async get(id: string): Promise<JobRecord | null> {
    const job = this.jobs.get(id);
    return job ? toRecord(job) : null;
  }

  async retry(query: RetryQuery): Promise<number> {
    const now = Date.now();
    const picked = [...this.jobs.values()]
      .filter(
        (job) =>
          (query.statuses as string[]).includes(job.status) &&
          (!query.ids || query.ids.includes(job.id)) &&
          (query.name === undefined || job.name === query.name),
      )
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const job of picked) {
      if (job.key !== null && this.keys.has(keyOf(job.name, job.key))) job.key = null;
      job.attempts = 0;
      job.updated_at = now;
      this.backInQueue(job, now);
    }
    return picked.length;
  }

  async list(query: JobQuery): Promise<JobRecord[]> {
    const rows = [...this.jobs.values()].filter(
      (job) =>
        (!query.statuses || query.statuses.includes(job.status)) &&
        (!query.name || job.name === query.name) &&
        (query.updatedBefore === undefined || job.updated_at < query.updatedBefore),
    );
    rows.sort((a, b) => (a.id < b.id ? -1 : 1));
    const picked = query.limit === undefined ? rows : rows.reverse().slice(0, query.limit);
    return picked.map(toRecord);
  }

  async stats(): Promise<JobCount[]> {
    const counts = new Map<string, JobCount>();
    for (const job of this.jobs.values()) {
      const key = `${job.name}\0${job.status}`;
      const entry = counts.get(key) ?? { name: job.name, status: job.status, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
    }
    return [...counts.values()];
  }

  async cancel(name: string, ids?: string[]): Promise<number> {
    let count = 0;
    for (const id of ids ?? [...this.queued.keys()]) {
      const job = this.jobs.get(id);
      if (job && this.queued.has(id) && job.name === name) {
        job.updated_at = Date.now();
        this.settle(job, 'cancelled');
        count += 1;
      }
    }
    return count;
  }

  async reclaimSpace(): Promise<SpaceReport> {
    return { before: null, after: null, note: 'The in-process store frees the memory of deleted jobs at once.' };
  }

  async remove(query: RemoveQuery): Promise<number> {
    let count = 0;
    for (const job of [...this.jobs.values()]) {
      if (
        query.statuses.includes(job.status) &&
        (query.updatedBefore === undefined || job.updated_at < query.updatedBefore) &&
        (!query.ids || query.ids.includes(job.id))
      ) {
        this.releaseKey(job);
        if (job.status === 'processing') this.count(job, -1);
        this.jobs.delete(job.id);
        this.queued.delete(job.id);
        count += 1;
      }
    }
    return count;
  }

  async requeue(updatedBefore: number): Promise<number> {
    let count = 0;
    for (const job of this.jobs.values()) {
      if (job.status === 'processing' && job.updated_at <= updatedBefore) {
        job.updated_at = Date.now();
        job.lease_until = null;
        this.backInQueue(job, job.updated_at);
        count += 1;
      }
    }
    return count;
  }

  /** A job (back) in the queue at `runAt`, keeping its key. */
  private backInQueue(job: StoredJob, runAt: number): void {
    if (job.status === 'processing') this.count(job, -1);
    job.status = 'queued';
    if (job.key !== null) this.keys.set(keyOf(job.name, job.key), job.id);
    this.place(job, runAt);
  }

  /**
   * Gives a queued job its place for `runAt`, in its lane when it is due and among the delayed
   * jobs until then; places it had are left behind.
   */
  private place(job: StoredJob, runAt: number): void {
    job.run_at = runAt;
    const place: Place = { id: job.id, version: ++this.versions, run_at: runAt, priority: job.priority };
    this.queued.set(job.id, place.version);
    if (runAt <= Date.now()) this.laneOf(job).ready.push(place);
    else this.delayed.push(place);
    this.wakeup.notify();
  }

  private settle(job: StoredJob, status: 'completed' | 'failed' | 'cancelled'): void {
    if (job.status === 'processing') this.count(job, -1);
    job.status = status;
    this.queued.delete(job.id);
    this.releaseKey(job);
    this.noteFinished(job.id);
  }

  /** Keeps the last FINISHED_KEPT finished jobs: the oldest is dropped, unless it has gone live again since. */
  private noteFinished(id: string): void {
    if (this.finished.length < FINISHED_KEPT) {
      this.finished.push(id);
      return;
    }
    const oldest = this.jobs.get(this.finished[this.finishedNext]);
    if (oldest && oldest.status !== 'queued' && oldest.status !== 'processing') this.jobs.delete(oldest.id);
    this.finished[this.finishedNext] = id;
    this.finishedNext = (this.finishedNext + 1) % FINISHED_KEPT;
  }

  /** A job that leaves the live states frees its key. */
  private releaseKey(job: StoredJob): void {
    if (job.key !== null && this.keys.get(keyOf(job.name, job.key)) === job.id)
      this.keys.delete(keyOf(job.name, job.key));
  }
}

/** A copy of a stored job as a `JobRecord`. */
function toRecord(job: StoredJob): JobRecord {
  const { concurrency_key: _key, ...record } = structuredClone(job);
  return record;
}

function pauseId(target: PauseTarget): string {
  return JSON.stringify({ kind: target.kind, name: target.name });
}

function keyOf(name: string, key: string): string {
  return `${name}\0${key}`;
}
