/**
 * What the dashboard shows, read through the store's operator verbs (the ones `loco jobs` uses):
 * counts by status and worker, what is paused, the workers' limits, the scheduler's jobs, and a
 * page of jobs.
 */
import type { AppContext } from '../context.js';
import { describeError } from '../errors.js';
import { JOB_STATUSES, type JobRecord, type JobStatus, type QueueBackend } from '../queue/backend.js';
import { loadSchedulerJobs } from '../scheduler/config.js';

/** Jobs on one page of the list. */
export const PAGE_SIZE = 50;
/** With a tag filter, the newest jobs read to find matches (the store's list cannot filter by tag). */
export const TAG_SCAN_LIMIT = 10_000;

/** One worker name's row in the overview. */
export interface WorkerRow {
  name: string;
  counts: Record<JobStatus, number>;
  /** Registered in this process. */
  registered: boolean;
  paused: boolean;
  /** `5 at once per key`, `100 per 60 s`, or empty. */
  limits: string[];
}

/** A scheduler job and its next run. */
export interface ScheduleRow {
  name: string;
  schedule: string;
  next: number | undefined;
}

/** The overview: totals, workers, paused queues and the scheduler. */
export interface Overview {
  totals: Record<JobStatus, number>;
  workers: WorkerRow[];
  pausedQueues: string[];
  schedules: ScheduleRow[];
  /** Why the scheduler's jobs could not be read, if they could not. */
  scheduleError?: string;
}

/** The list's filter and page, as given in the query string. */
export interface ListFilter {
  status?: JobStatus;
  name?: string;
  tag?: string;
  /** 1-based. */
  page: number;
}

/** One page of jobs, newest first. */
export interface JobPage {
  jobs: JobRecord[];
  /** More jobs match after this page. */
  more: boolean;
}

function zeroCounts(): Record<JobStatus, number> {
  return Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
}

/** Reads the overview from the store, the registry and the scheduler's config. */
export async function readOverview(ctx: AppContext, backend: QueueBackend, now = Date.now()): Promise<Overview> {
  const [counts, paused] = await Promise.all([backend.stats(), backend.paused()]);
  const totals = zeroCounts();
  const byName = new Map<string, Record<JobStatus, number>>();
  for (const name of ctx.queue.names()) byName.set(name, zeroCounts());
  for (const row of counts) {
    totals[row.status] += row.count;
    const entry = byName.get(row.name) ?? zeroCounts();
    entry[row.status] += row.count;
    byName.set(row.name, entry);
  }
  const pausedWorkers = new Set(paused.filter((p) => p.kind === 'worker').map((p) => p.name));
  for (const name of pausedWorkers) if (!byName.has(name)) byName.set(name, zeroCounts());
  const workers = [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, counts]): WorkerRow => {
      const worker = ctx.queue.registry.get(name);
      const limits: string[] = [];
      if (worker?.limits?.concurrency !== undefined) limits.push(`${worker.limits.concurrency} at once`);
      if (worker?.limits?.rate) limits.push(`${worker.limits.rate.max} per ${worker.limits.rate.perMs / 1000} s`);
      return { name, counts, registered: worker !== undefined, paused: pausedWorkers.has(name), limits };
    });
  const overview: Overview = {
    totals,
    workers,
    pausedQueues: paused.filter((p) => p.kind === 'queue').map((p) => p.name),
    schedules: [],
  };
  try {
    overview.schedules = loadSchedulerJobs({
      config: ctx.config,
      file: process.env.SCHEDULER_CONFIG || undefined,
      root: ctx.root,
      now,
    }).map((job) => ({ name: job.name, schedule: job.schedule.text, next: job.schedule.upcoming(1, now)[0] }));
  } catch (err) {
    overview.scheduleError = describeError(err).split('\n')[0];
  }
  return overview;
}

/** One page of jobs matching the filter, newest first. */
export async function readJobPage(backend: QueueBackend, filter: ListFilter): Promise<JobPage> {
  const skip = (filter.page - 1) * PAGE_SIZE;
  const query = { statuses: filter.status ? [filter.status] : undefined, name: filter.name };
  if (filter.tag) {
    const tag = filter.tag;
    const matching = (await backend.list({ ...query, limit: TAG_SCAN_LIMIT })).filter((job) => job.tags.includes(tag));
    return { jobs: matching.slice(skip, skip + PAGE_SIZE), more: matching.length > skip + PAGE_SIZE };
  }
  const jobs = await backend.list({ ...query, limit: skip + PAGE_SIZE + 1 });
  return { jobs: jobs.slice(skip, skip + PAGE_SIZE), more: jobs.length > skip + PAGE_SIZE };
}

/** The filter of a query string; values that are not allowed are left out. */
export function parseFilter(query: Record<string, string | undefined>): ListFilter {
  const status = JOB_STATUSES.find((s) => s === query.status);
  const page = Number(query.page);
  const text = (value: string | undefined) => (value && value.length <= 255 ? value : undefined);
  return {
    status,
    name: text(query.name?.trim()),
    tag: text(query.tag?.trim()),
    page: Number.isInteger(page) && page >= 1 && page <= 10_000 ? page : 1,
  };
}

/** The query string of a filter (without the `?`), leaving out what is unset. */
export function filterQuery(filter: ListFilter, page = filter.page): string {
  const params = new URLSearchParams();
  if (filter.status) params.set('status', filter.status);
  if (filter.name) params.set('name', filter.name);
  if (filter.tag) params.set('tag', filter.tag);
  if (page > 1) params.set('page', String(page));
  return params.toString();
}
