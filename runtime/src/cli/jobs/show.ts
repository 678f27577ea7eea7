/** `loco jobs show` and `retry`: one job, and failed jobs back in the queue. */
import { LocoError } from '../../errors.js';
import type { JobRecord } from '../../queue/backend.js';
import type { JobSession } from './session.js';
import { plural, shortTime } from './text.js';

/** Prints one job's record, every field; exits 1 when there is no such job. */
export async function showJob({ queue }: JobSession, id: string): Promise<void> {
  const job = await queue.job(id);
  if (!job) throw new LocoError(`No job with id ${id} in the queue. loco jobs list shows the ids there are.`);
  console.log(formatJob(job));
}

/** A job as `field: value` lines, args as JSON and the error with its stack below. */
export function formatJob(job: JobRecord): string {
  const time = (ms: number | null) => (ms === null ? '-' : `${shortTime(ms)} (${new Date(ms).toISOString()})`);
  const lines = [
    `id:           ${job.id}`,
    `name:         ${job.name}`,
    `status:       ${job.status}`,
    `attempts:     ${job.attempts} of ${job.max_attempts}`,
    `priority:     ${job.priority}`,
    `key:          ${job.key ?? '-'}`,
    `queue:        ${job.queue ?? '-'}`,
    `tags:         ${job.tags.length ? job.tags.join(', ') : '-'}`,
    `interval:     ${job.interval === null ? '-' : `${job.interval} ms`}`,
    `run_at:       ${time(job.run_at)}`,
    `lease_until:  ${time(job.lease_until)}`,
    `created_at:   ${time(job.created_at)}`,
    `updated_at:   ${time(job.updated_at)}`,
    `args:         ${JSON.stringify(job.task_data)}`,
  ];
  if (job.last_error) lines.push('last error:', ...job.last_error.split('\n').map((line) => `  ${line}`));
  return lines.join('\n');
}

/** Options of `retry`. */
export interface RetryOptions {
  /** Only these jobs; each must exist and be failed (or cancelled, with `cancelled`). */
  ids?: string[];
  /** Only jobs of this worker. */
  name?: string;
  /** Cancelled jobs too. */
  cancelled: boolean;
}

/**
 * Failed (and with `cancelled`, cancelled) jobs go back to `queued`, due now, attempts reset, args
 * kept. Ids given are all checked first: one that does not exist or is not in such a status is an
 * error, and nothing changes.
 */
export async function retryJobs({ backend }: JobSession, options: RetryOptions): Promise<void> {
  const statuses: Array<'failed' | 'cancelled'> = options.cancelled ? ['failed', 'cancelled'] : ['failed'];
  if (options.ids) {
    const problems: string[] = [];
    for (const id of options.ids) {
      const job = await backend.get(id);
      if (!job) problems.push(`no job has the id ${id}`);
      else if (!(statuses as string[]).includes(job.status)) {
        problems.push(
          `job ${id} (${job.name}) is ${job.status}; only ${statuses.join(' and ')} jobs can be retried` +
            (job.status === 'cancelled' ? ' (add --cancelled for cancelled ones)' : ''),
        );
      } else if (options.name !== undefined && job.name !== options.name) {
        problems.push(`job ${id} is a ${job.name} job, not ${options.name}`);
      }
    }
    if (problems.length > 0) throw new LocoError(`Cannot retry: ${problems.join('; ')}. Nothing was changed.`);
  }
  const count = await backend.retry({ statuses, ids: options.ids, name: options.name });
  console.log(
    `Retried ${plural(count, 'job')} (${statuses.join(' or ')}${options.name ? ` ${options.name}` : ''}): queued again, due now.`,
  );
}
