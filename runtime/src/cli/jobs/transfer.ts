/** `loco jobs dump` and `import`: jobs to and from Loco-compatible YAML files. */

import type { Queue } from '../../app-queue.js';
import { LocoError } from '../../errors.js';
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
 * Enqueues the jobs of a dump (this tool's or Loco's). The whole file is checked first (its
 * format, and each entry's args against its worker's `argsSchema`), and the jobs are inserted in
 * one atomic `enqueue`: all or none. By default each comes back as a new queued job; with
 * `keepStatus` as it was (status, attempts, last error and times kept; a processing job comes
 * back queued, since its worker is not here). A file over `maxBytes` (default
 * `IMPORT_MAX_BYTES`) is refused unread.
 */
export async function importJobs(
  { queue }: JobSession,
  file: string,
  options: { keepStatus?: boolean; maxBytes?: number } = {},
): Promise<void> {
  const entries = parseDump(readDumpFile(file, options.maxBytes), file, queue.names(), {
    maxArgsBytes: queue.maxArgsBytes,
  });
  const now = Date.now();
  const jobs: NewJob[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    try {
      jobs.push(await newJobFrom(entry, queue, now, Boolean(options.keepStatus)));
    } catch (err) {
      if (!(err instanceof LocoError)) throw err;
      problems.push(`  entry ${entry.index} (line ${entry.line}${entry.id ? `, id ${entry.id}` : ''}): ${err.message}`);
    }
  }
  if (problems.length > 0) {
    throw new LocoError(
      [
        `Cannot import ${file}: ${plural(problems.length, 'entry')} refused, so nothing was imported:`,
        ...problems.slice(0, 20),
      ].join('\n'),
    );
  }
  const results = await queue.insert(jobs);
  const added = results.filter((result) => result.added).length;
  const matched = results.length - added;
  console.log(
    `Imported ${plural(added, 'job')} from ${file} ${options.keepStatus ? 'with their status' : 'as new queued jobs'}` +
      `${matched ? `; ${plural(matched, 'job')} matched a queued job with the same unique key and ${matched === 1 ? 'was' : 'were'} not added` : ''}.`,
  );
}

/**
 * A dumped job as a new job. Kept: name, args, tags, queue, priority, key, interval,
 * max_attempts, created_at and traceparent; a `run_at` still in the future (a delayed job) is kept too, an
 * earlier one becomes now (with `keepStatus`, run_at is kept as it was). Fields a dump lacks come
 * from the registered worker, as for a job enqueued today; `tags: null` (Loco's way of writing
 * "no tags") means no tags.
 */
async function newJobFrom(entry: DumpEntry, queue: Queue, now: number, keepStatus: boolean): Promise<NewJob> {
  const status = entry.status ?? 'queued';
  const job = await queue.jobByName(entry.name, entry.task_data, {
    runAt: keepStatus ? (entry.run_at ?? now) : Math.max(entry.run_at ?? now, now),
    interval: entry.interval ?? undefined,
    tags: entry.tags === undefined ? undefined : (entry.tags ?? []),
    queue: entry.queue,
    priority: entry.priority,
    key: entry.key ?? undefined,
    maxAttempts: entry.max_attempts,
    createdAt: entry.created_at,
    restore: keepStatus
      ? {
          status,
          attempts: status === 'queued' || status === 'processing' ? 0 : (entry.attempts ?? 0),
          last_error: entry.last_error ?? null,
          updated_at: entry.updated_at ?? now,
        }
      : undefined,
  });
  // The trace context goes with the job, so its runs still link to the span that first enqueued it.
  return { ...job, traceparent: entry.traceparent ?? null };
}
