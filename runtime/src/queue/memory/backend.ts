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
} from '../backend.js';
import { LEASE_EXPIRED_ERROR } from '../outcome.js';
import { tagsMatch } from '../tags.js';
import { Wakeup } from '../wakeup.js';
import { type DueEntry, DueHeap } from './due-heap.js';

/** Finished jobs kept for `list`/`stats` before the oldest are dropped, so a long-lived process does not grow. */
const FINISHED_KEPT = 1000;

/**
 * The in-process backend behind `BackgroundAsync`: jobs live in this process's memory only,
 * so they are lost on exit and cannot be shared with other processes.
 */
export class InProcessBackend implements QueueBackend {
  readonly kind = 'InProcess';
  readonly display = 'in-process';
  readonly capabilities: BackendCapabilities = { durable: false, shared: false };
  private readonly jobs = new Map<string, JobRecord>();
  private readonly queued = new Set<string>();
  /** Queued jobs by (run_at, id); entries of jobs that left the queue are skipped when met. */
  private readonly due = new DueHeap();
  private readonly finished: string[] = [];
  private readonly wakeup = new Wakeup();
  /** Claimed ticks (`schedule` NUL `tickAt`) and when each may be pruned, in claim order. */
  private readonly ticks = new Map<string, number>();

  async init(options: InitOptions): Promise<void> {
    if (options.flush) {
      this.jobs.clear();
      this.queued.clear();
      this.due.clear();
      this.finished.length = 0;
    }
  }

  async enqueue(jobs: NewJob[]): Promise<string[]> {
    const now = Date.now();
    for (const job of jobs) {
      this.jobs.set(job.id, {
        ...job,
        task_data: structuredClone(job.task_data),
        tags: [...job.tags],
        status: 'queued',
        attempts: 0,
        last_error: null,
        lease_until: null,
        created_at: job.created_at ?? now,
        updated_at: now,
      });
      this.queued.add(job.id);
      this.due.push({ id: job.id, runAt: job.run_at });
    }
    this.wakeup.notify();
    return jobs.map((job) => job.id);
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    const due: JobRecord[] = [];
    const passed: DueEntry[] = [];
    while (due.length < request.limit) {
      const top = this.due.peek();
      if (!top) break;
      const job = this.jobs.get(top.id);
      if (!job || !this.queued.has(top.id) || job.run_at !== top.runAt) {
        this.due.pop();
        continue;
      }
      if (top.runAt > request.now) break;
      this.due.pop();
      if (request.names.includes(job.name) && tagsMatch(request, job.tags)) due.push(job);
      else passed.push(top);
    }
    for (const entry of passed) this.due.push(entry);
    return due.slice(0, request.limit).map((job) => {
      this.queued.delete(job.id);
      Object.assign(job, {
        status: 'processing',
        attempts: job.attempts + 1,
        lease_until: request.now + request.leaseMs,
        updated_at: request.now,
      });
      return {
        id: job.id,
        name: job.name,
        task_data: structuredClone(job.task_data),
        interval: job.interval,
        tags: [...job.tags],
        queue: job.queue,
        attempts: job.attempts,
        max_attempts: job.max_attempts,
      };
    });
  }

  async finish(outcomes: JobOutcome[]): Promise<void> {
    const now = Date.now();
    for (const outcome of outcomes) {
      const job = this.jobs.get(outcome.id);
      if (job?.status !== 'processing' || job.attempts !== outcome.attempts) continue;
      job.updated_at = now;
      job.lease_until = null;
      if (outcome.error !== undefined) job.last_error = outcome.error;
      if (outcome.status === 'queued') this.requeueAt(job, outcome.runAt ?? job.run_at, outcome.nextAttempts);
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
        if (job.attempts < job.max_attempts) this.requeueAt(job, now, job.attempts);
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
    for (const id of this.queued) {
      const job = this.jobs.get(id)!;
      if (job.name === name) {
        this.queued.delete(id);
        job.status = 'cancelled';
        job.updated_at = Date.now();
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
        this.requeueAt(job, job.updated_at, job.attempts);
        count += 1;
      }
    }
    return count;
  }

  private requeueAt(job: JobRecord, runAt: number, attempts: number): void {
    job.status = 'queued';
    job.run_at = runAt;
    job.attempts = attempts;
    this.queued.add(job.id);
    this.due.push({ id: job.id, runAt });
    this.wakeup.notify();
  }

  private settle(job: JobRecord, status: 'completed' | 'failed'): void {
    job.status = status;
    this.finished.push(job.id);
    while (this.finished.length > FINISHED_KEPT) this.jobs.delete(this.finished.shift()!);
  }
}
