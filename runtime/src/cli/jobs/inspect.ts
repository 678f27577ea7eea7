/** `loco jobs list` and `stats`: looking at the queue without changing it. */
import { JOB_STATUSES, type JobStatus, type PauseTarget } from '../../queue/backend.js';
import type { JobSession } from './session.js';
import { firstLine, plural, shortTime, table } from './text.js';

/** Options of `list`. */
export interface ListOptions {
  statuses?: JobStatus[];
  name?: string;
  /** At most this many jobs, the newest first. */
  limit: number;
}

/** Prints the newest matching jobs as a table, and how many match in all. */
export async function listJobs({ backend }: JobSession, options: ListOptions): Promise<void> {
  const filter = [
    options.statuses ? `status ${options.statuses.join(' or ')}` : '',
    options.name ? `name ${options.name}` : '',
  ].filter(Boolean);
  const jobs = await backend.list({ statuses: options.statuses, name: options.name, limit: options.limit });
  const paused = describePaused(await backend.paused());
  if (jobs.length === 0) {
    console.log((filter.length ? `No jobs with ${filter.join(' and ')}.` : 'No jobs in the queue.') + paused);
    return;
  }
  const matching = (await backend.stats())
    .filter(
      (row) =>
        (!options.statuses || options.statuses.includes(row.status)) && (!options.name || row.name === options.name),
    )
    .reduce((sum, row) => sum + row.count, 0);
  const rows = jobs.map((job) => [
    job.id,
    job.name,
    job.status,
    `${job.attempts}/${job.max_attempts}`,
    shortTime(job.run_at),
    shortTime(job.updated_at),
    job.tags.length ? job.tags.join(',') : '-',
    firstLine(job.last_error),
  ]);
  console.log(table(['id', 'name', 'status', 'attempts', 'run_at', 'updated_at', 'tags', 'last error'], rows));
  const shown = jobs.length < matching ? `the newest ${jobs.length} of ${matching} jobs` : plural(jobs.length, 'job');
  console.log(
    `\n${shown[0].toUpperCase()}${shown.slice(1)}${filter.length ? ` with ${filter.join(' and ')}` : ''}, newest first.` +
      (jobs.length < matching ? ' Use --limit to see more.' : '') +
      paused,
  );
}

/** `\nPaused (...): worker X, queue Y.`, or nothing when nothing is paused. */
function describePaused(paused: PauseTarget[]): string {
  if (paused.length === 0) return '';
  return `\nPaused (loco jobs resume ... lets them go on): ${paused.map((p) => `${p.kind} ${p.name}`).join(', ')}.`;
}

/** Prints job counts by name and status, with totals. */
export async function showStats({ backend, queue }: JobSession): Promise<void> {
  const counts = await backend.stats();
  const paused = await backend.paused();
  const note = describePaused(paused);
  if (counts.length === 0) {
    console.log(`No jobs in the queue (${backend.kind}).${note}`);
    return;
  }
  const byName = new Map<string, Record<JobStatus, number>>();
  const totals = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
  for (const { name, status, count } of counts) {
    const row = byName.get(name) ?? (Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>);
    row[status] += count;
    totals[status] += count;
    byName.set(name, row);
  }
  const line = (label: string, row: Record<JobStatus, number>) => {
    const cells = JOB_STATUSES.map((status) => String(row[status]));
    return [label, ...cells, String(JOB_STATUSES.reduce((sum, status) => sum + row[status], 0))];
  };
  const names = [...byName.keys()].sort();
  const pausedNames = new Set(paused.filter((p) => p.kind === 'worker').map((p) => p.name));
  const label = (name: string) =>
    `${name}${queue.registry.get(name) ? '' : ' (not registered)'}${pausedNames.has(name) ? ' (paused)' : ''}`;
  const rows = names.map((name) => line(label(name), byName.get(name)!));
  rows.push(line('total', totals));
  const numeric = new Set(JOB_STATUSES.map((_, i) => i + 1).concat(JOB_STATUSES.length + 1));
  console.log(table(['name', ...JOB_STATUSES, 'total'], rows, numeric) + note);
}
