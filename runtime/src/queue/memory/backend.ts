import type {
  BackendCapabilities,
  ClaimedJob,
  ClaimRequest,
  EnqueueRequest,
  EnqueueResult,
  InitOptions,
  JobCount,
  JobOutcome,
  JobQuery,
  JobRecord,
  NewJob,
  QueueBackend,
  RemoveQuery,
  RetryQuery,
} from '../backend.js';
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

/**
 * The in-process backend behind `BackgroundAsync`: jobs live in this process's memory only,
 * so they are lost on exit and cannot be shared with other processes. Queued jobs wait in a
 * heap by run time until due, then in a heap in claim order.
 */
export class InProcessBackend implements QueueBackend {
  readonly kind = 'InProcess';
  readonly display = 'in-process';
  readonly capabilities: BackendCapabilities = { durable: false, shared: false, transactions: false };
  private readonly jobs = new Map<string, JobRecord>();
  /** Queued jobs by id, with their queue version. */
  private readonly queued = new Map<string, number>();
  private versions = 0;
  /** Live jobs (queued or processing) by `name \0 key`. */
  private readonly keys = new Map<string, string>();
  private readonly delayed = new Heap<Place>((a, b) => a.run_at < b.run_at || (a.run_at === b.run_at && a.id < b.id));
  private readonly ready = new Heap<Place>((a, b) => claimOrder(a, b) < 0);
  private readonly finished: string[] = [];
  private readonly wakeup = new Wakeup();
  /** Claimed ticks (`schedule` NUL `tickAt`) and when each may be pruned, in claim order. */
  private readonly ticks = new Map<string, number>();

  async init(options: InitOptions): Promise<void> {
    if (options.flush) {
      this.jobs.clear();
      this.queued.clear();
      this.keys.clear();
      this.delayed.clear();
      this.ready.clear();
      this.finished.length = 0;
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
            holder.task_data = structuredClone(job.task_data);
            holder.updated_at = now;
            this.place(holder, job.run_at);
          }
          return { id: holder.id, added: false };
        }
        if (holder) holder.key = null;
      }
      const record: JobRecord = {
        ...job,
        task_data: structuredClone(job.task_data),
        tags: [...job.tags],
        status,
        attempts: restored?.attempts ?? 0,
        last_error: restored?.last_error ?? null,
        lease_until: null,
        created_at: job.created_at ?? now,
        updated_at: restored?.updated_at ?? now,
      };
      delete (record as Partial<NewJob>).restore;
      this.jobs.set(job.id, record);
      if (status === 'queued') {
        if (job.key !== null) this.keys.set(keyOf(job.name, job.key), job.id);
        this.place(record, job.run_at);
      } else {
        this.finished.push(job.id);
      }
      return { id: job.id, added: true };
    });
    this.wakeup.notify();
    return unfoldResults(folded, results);
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    for (let top = this.delayed.peek(); top && top.run_at <= request.now; top = this.delayed.peek()) {
      this.delayed.pop();
      if (this.queued.get(top.id) === top.version) this.ready.push(top);
    }
    const claimed: ClaimedJob[] = [];
    const passed: Place[] = [];
    while (claimed.length < request.limit) {
      const top = this.ready.pop();
      if (!top) break;
      if (this.queued.get(top.id) !== top.version) continue;
      const job = this.jobs.get(top.id)!;
      if (!request.names.includes(job.name) || !tagsMatch(request, job.tags)) {
        passed.push(top);
        continue;
      }
      this.queued.delete(job.id);
      Object.assign(job, {
        status: 'processing',
        attempts: job.attempts + 1,
        lease_until: request.now + request.leaseMs,
        updated_at: request.now,
      });
      claimed.push({
        id: job.id,
        name: job.name,
        task_data: structuredClone(job.task_data),
        interval: job.interval,
        tags: [...job.tags],
        queue: job.queue,
        priority: job.priority,
        attempts: job.attempts,
        max_attempts: job.max_attempts,
      });
    }
    for (const place of passed) this.ready.push(place);
    return claimed;
  }

  async finish(outcomes: JobOutcome[]): Promise<void> {
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
        if (job.attempts < job.max_attempts) this.backInQueue(job, now);
        else {
          job.last_error = LEASE_EXPIRED_ERROR;
          this.settle(job, 'failed');
        }
        moved += 1;
      }
    }
    return moved;
  }

  waitForWork(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return this.wakeup.wait(timeoutMs, signal);
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
    return job ? structuredClone(job) : null;
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
    return picked.map((job) => structuredClone(job));
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

  async cancel(name: string): Promise<number> {
    let count = 0;
    for (const id of [...this.queued.keys()]) {
      const job = this.jobs.get(id)!;
      if (job.name === name) {
        job.updated_at = Date.now();
        this.settle(job, 'cancelled');
        count += 1;
      }
    }
    return count;
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
  private backInQueue(job: JobRecord, runAt: number): void {
    job.status = 'queued';
    if (job.key !== null) this.keys.set(keyOf(job.name, job.key), job.id);
    this.place(job, runAt);
  }

  /** Gives a queued job its place for `runAt`; places it had are left behind. */
  private place(job: JobRecord, runAt: number): void {
    job.run_at = runAt;
    const place: Place = { id: job.id, version: ++this.versions, run_at: runAt, priority: job.priority };
    this.queued.set(job.id, place.version);
    this.delayed.push(place);
    this.wakeup.notify();
  }

  private settle(job: JobRecord, status: 'completed' | 'failed' | 'cancelled'): void {
    job.status = status;
    this.queued.delete(job.id);
    this.releaseKey(job);
    this.finished.push(job.id);
    while (this.finished.length > FINISHED_KEPT) {
      const oldest = this.jobs.get(this.finished.shift()!);
      if (oldest && oldest.status !== 'queued' && oldest.status !== 'processing') this.jobs.delete(oldest.id);
    }
  }

  /** A job that leaves the live states frees its key. */
  private releaseKey(job: JobRecord): void {
    if (job.key !== null && this.keys.get(keyOf(job.name, job.key)) === job.id)
      this.keys.delete(keyOf(job.name, job.key));
  }
}

function keyOf(name: string, key: string): string {
  return `${name}\0${key}`;
}
