/** `loco jobs dump` and `import`: jobs to and from Loco-compatible YAML files. */

import type { Queue } from '../../app-queue.js';
import type { JobStatus, NewJob } from '../../queue/backend.js';
import { readDumpFile, writeDumpFile } from './dump-file.js';
import { type DumpEntry, formatDump, parseDump } from './dump-format.js';
import type { JobSession } from './session.js';
import { plural } from './text.js';

/** Writes the jobs in `statuses` (default: all) to a new dump file in `folder`; prints its path. */
export async function dumpJobs(
  { backend }: JobSession,
  options: { statuses?: JobStatus[]; folder: string },
): Promise<void> {
  const jobs = await backend.list({ statuses: options.statuses });
  const file = writeDumpFile(options.folder, formatDump(jobs));
  console.log(`Wrote ${plural(jobs.length, 'job')} to ${file}`);
}

/**
 * Enqueues the jobs of a dump (this tool's or Loco's) as new `queued` jobs with new ids. The
 * whole file is checked first, and the jobs are inserted in one atomic `enqueue`: all or none.
 * A file over `maxBytes` (default `IMPORT_MAX_BYTES`) is refused unread.
 */
export async function importJobs(
  { queue }: JobSession,
  file: string,
  options: { maxBytes?: number } = {},
): Promise<void> {
  const entries = parseDump(readDumpFile(file, options.maxBytes), file, queue.names(), {
    maxArgsBytes: queue.maxArgsBytes,
  });
  const now = Date.now();
  const ids = await queue.insert(entries.map((entry) => newJobFrom(entry, queue, now)));
  console.log(`Imported ${plural(ids.length, 'job')} from ${file} as new queued jobs.`);
}

/**
 * A dumped job as a new job. Kept: name, args, tags, queue, interval, max_attempts and
 * created_at; a `run_at` still in the future (a delayed job) is kept too, an earlier one becomes
 * now. Fields a dump lacks come from the registered worker, as for a job enqueued today; `tags:
 * null` (Loco's way of writing "no tags") means no tags.
 */
function newJobFrom(entry: DumpEntry, queue: Queue, now: number): NewJob {
  return queue.jobByName(entry.name, entry.task_data, {
    runAt: Math.max(entry.run_at ?? now, now),
    interval: entry.interval ?? undefined,
    tags: entry.tags === undefined ? undefined : (entry.tags ?? []),
    queue: entry.queue,
    maxAttempts: entry.max_attempts,
    createdAt: entry.created_at,
  });
}
