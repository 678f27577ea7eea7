/**
 * Prometheus metrics of the queue (`GET /_metrics`, config `metrics:`), with prom-client: jobs by
 * status and name read from the store at scrape time, and from this process the jobs it started,
 * completed, failed and retried, their run time and queue wait, claim errors and expired leases.
 * Labels are worker names, statuses and outcomes only (never ids or args), and at most
 * `MAX_NAMES` names: past that, names are counted under `other`.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { decodeTime } from 'ulid';
import type { JobObserver } from './events.js';
import { JOB_STATUSES, type QueueBackend } from './queue/backend.js';

/** Worker names given labels of their own; more are counted as `other`, so a series count stays bounded. */
export const MAX_NAMES = 200;

/** Run times (seconds): from 5 ms to 10 minutes. */
const RUN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600];
/** Queue waits (seconds): from 5 ms to an hour. */
const WAIT_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

/** The metrics of one app's queue, in a registry of their own. */
export class QueueMetrics {
  /** The registry: `metrics()` renders it in Prometheus' text format. */
  readonly registry = new Registry();
  /** What the worker loop reports to. */
  readonly observer: JobObserver;
  private readonly names = new Set<string>();

  constructor(backend: QueueBackend | undefined) {
    const registers = [this.registry];
    const label = (name: string) => this.label(name);
    const started = new Counter({
      name: 'loco_jobs_started_total',
      help: 'Attempts this process started, by worker name.',
      labelNames: ['name'],
      registers,
    });
    const completed = new Counter({
      name: 'loco_jobs_completed_total',
      help: 'Attempts this process ran that succeeded, by worker name.',
      labelNames: ['name'],
      registers,
    });
    const failed = new Counter({
      name: 'loco_jobs_failed_total',
      help: 'Attempts this process ran that failed with no attempts left (the job ended failed), by worker name.',
      labelNames: ['name'],
      registers,
    });
    const retried = new Counter({
      name: 'loco_jobs_retried_total',
      help: 'Attempts this process ran that failed and were queued again for a retry, by worker name.',
      labelNames: ['name'],
      registers,
    });
    const runTime = new Histogram({
      name: 'loco_job_run_seconds',
      help: 'How long attempts run in this process took, by worker name and outcome (completed, retried, failed).',
      labelNames: ['name', 'outcome'],
      buckets: RUN_BUCKETS,
      registers,
    });
    const queueWait = new Histogram({
      name: 'loco_job_queue_wait_seconds',
      help: 'From enqueue to the first attempt, for jobs this process started (a delayed job counts its delay).',
      labelNames: ['name'],
      buckets: WAIT_BUCKETS,
      registers,
    });
    const claimErrors = new Counter({
      name: 'loco_claim_errors_total',
      help: 'Claims of this process that failed (the store was unreachable or refused them).',
      registers,
    });
    const stalled = new Counter({
      name: 'loco_jobs_stalled_total',
      help: 'Jobs whose lease ran out (their worker died or hung), found by this process.',
      registers,
    });
    if (backend) {
      new Gauge({
        name: 'loco_jobs',
        help: 'Jobs in the store, by status and worker name, read at scrape time.',
        labelNames: ['status', 'name'],
        registers,
        async collect() {
          const counts = await backend.stats();
          this.reset();
          // Every status of every name is present, so a graph can tell zero from missing.
          const totals = new Map<string, Map<string, number>>();
          for (const row of counts) {
            const name = label(row.name);
            const byStatus = totals.get(name) ?? new Map(JOB_STATUSES.map((status) => [status, 0]));
            byStatus.set(row.status, byStatus.get(row.status)! + row.count);
            totals.set(name, byStatus);
          }
          for (const [name, byStatus] of totals)
            for (const [status, count] of byStatus) this.set({ status, name }, count);
        },
      });
    }
    this.observer = {
      started(job, now) {
        const name = label(job.name);
        started.inc({ name });
        if (job.attempts === 1) {
          const enqueuedAt = enqueueTime(job.id);
          if (enqueuedAt !== undefined && now >= enqueuedAt) queueWait.observe({ name }, (now - enqueuedAt) / 1000);
        }
      },
      finished(job, outcome, durationMs) {
        const name = label(job.name);
        const result =
          typeof outcome.error !== 'string' ? 'completed' : outcome.status === 'failed' ? 'failed' : 'retried';
        ({ completed, failed, retried })[result].inc({ name });
        runTime.observe({ name, outcome: result }, durationMs / 1000);
      },
      claimFailed() {
        claimErrors.inc();
      },
      stalled(count) {
        stalled.inc(count);
      },
    };
  }

  /** The metrics in Prometheus' text format (reads the store for the job counts). */
  async metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of `metrics()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** `name` as a label value: its own up to `MAX_NAMES` names, then `other`. */
  private label(name: string): string {
    if (this.names.has(name)) return name;
    if (this.names.size >= MAX_NAMES) return 'other';
    this.names.add(name);
    return name;
  }
}

/** When a job was enqueued, from its ULID id; `undefined` for an id that is not one (an imported Loco id). */
function enqueueTime(id: string): number | undefined {
  try {
    return decodeTime(id);
  } catch {
    return undefined;
  }
}
