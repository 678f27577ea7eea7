/** `loco jobs cancel`, `tidy`, `purge` and `requeue`: changing or deleting jobs in bulk. */

import { LocoError } from '../../errors.js';
import type { JobStatus, PauseTarget, QueueBackend } from '../../queue/backend.js';
import { prepareDumpFolder, writeDumpFile } from './dump-file.js';
import { formatDump } from './dump-format.js';
import type { JobSession } from './session.js';
import { nameList, plural, unknownWorkerMessage } from './text.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** `queued` jobs named `name` become `cancelled`. */
export async function cancelJobs({ backend, queue }: JobSession, name: string): Promise<void> {
  const count = await backend.cancel(name);
  let note = '';
  if (count === 0 && !queue.registry.get(name))
    note = ` No worker is registered under that name either; registered workers: ${nameList(queue.names())}.`;
  console.log(`Cancelled ${plural(count, 'queued job')} named ${name}.${note}`);
}

/** Deletes `completed` and `cancelled` jobs, then gives their space back (`reclaimSpace`). */
export async function tidyJobs({ backend }: JobSession, options: { vacuum: boolean }): Promise<void> {
  const count = await backend.remove({ statuses: ['completed', 'cancelled'] });
  console.log(`Deleted ${plural(count, 'job')} (completed or cancelled).`);
  await reportSpace(backend, options.vacuum);
}

const mebibytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Gives the space of deleted jobs back the store's way and prints the sizes before and after. */
async function reportSpace(backend: QueueBackend, vacuum: boolean): Promise<void> {
  const space = await backend.reclaimSpace({ vacuum });
  const sizes =
    space.before === null || space.after === null
      ? ''
      : `Store size: ${mebibytes(space.before)} before, ${mebibytes(space.after)} after. `;
  console.log(`${sizes}${space.note}`);
}

/** Options of `purge`. */
export interface PurgeOptions {
  /** Delete jobs last updated more than this many days ago (fractions allowed). */
  maxAge: number;
  /** Only jobs in these statuses. */
  statuses: JobStatus[];
  /** Dump the jobs to a file in this folder first, and delete only those written to it. */
  dump?: string;
  /** Give the space back the thorough way (`reclaimSpace`). */
  vacuum?: boolean;
}

/**
 * Deletes jobs last updated more than `maxAge` days ago in the given statuses. With `dump`, the
 * jobs are written to a dump file first (and flushed to disk); if that fails nothing is deleted,
 * and only the jobs in the file are deleted (a job that changed meanwhile is kept).
 */
export async function purgeJobs({ backend }: JobSession, options: PurgeOptions, now = Date.now()): Promise<void> {
  const updatedBefore = now - options.maxAge * DAY_MS;
  const statuses =
    options.statuses.length > 1
      ? `${options.statuses.slice(0, -1).join(', ')} or ${options.statuses.at(-1)}`
      : options.statuses[0];
  const age = `last updated more than ${plural(options.maxAge, 'day')} ago`;
  const deleted = (count: number) => `Deleted ${plural(count, 'job')} (${statuses}) ${age}.`;
  if (options.dump === undefined) {
    console.log(deleted(await backend.remove({ statuses: options.statuses, updatedBefore })));
    await reportSpace(backend, options.vacuum === true);
    return;
  }

  // Checked first, so that a wrong --dump fails the same way whether or not there is anything to purge.
  refuseDeletion(() => prepareDumpFolder(options.dump!));
  const jobs = await backend.list({ statuses: options.statuses, updatedBefore });
  if (jobs.length === 0) {
    console.log(`No jobs (${statuses}) ${age}: nothing dumped or deleted.`);
    return;
  }
  const file = refuseDeletion(() => writeDumpFile(options.dump!, formatDump(jobs)));
  console.log(`Wrote ${plural(jobs.length, 'job')} to ${file}`);
  const count = await backend.remove({ statuses: options.statuses, updatedBefore, ids: jobs.map((job) => job.id) });
  console.log(deleted(count));
  if (count < jobs.length) {
    console.log(
      `${plural(jobs.length - count, 'dumped job')} changed while purging (a worker took it, say) and stayed in the queue.`,
    );
  }
  await reportSpace(backend, options.vacuum === true);
}

/** Runs a dump step; its error says that nothing was deleted. */
function refuseDeletion<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    throw new LocoError(`${(err as Error).message} Nothing was deleted.`, { cause: err });
  }
}

/** Stops claims of a worker's (or, with `queue`, a named queue's) jobs in every process until `resume`. */
export async function pauseJobs(
  { backend, queue }: JobSession,
  name: string,
  options: { queue: boolean },
): Promise<void> {
  const target: PauseTarget = { kind: options.queue ? 'queue' : 'worker', name };
  if (!options.queue && !queue.registry.get(name)) {
    throw new LocoError(
      `Cannot pause: ${unknownWorkerMessage(name, queue.names())} (Use --queue to pause a named queue.)`,
    );
  }
  const changed = await backend.pause(target);
  console.log(
    changed
      ? `Paused ${target.kind} ${name}: no process claims its jobs until loco jobs resume ${options.queue ? '--queue ' : ''}${name}; running jobs finish, enqueues go on.`
      : `${target.kind} ${name} was paused already.`,
  );
}

/** Lets a paused worker's or queue's jobs be claimed again. */
export async function resumeJobs({ backend }: JobSession, name: string, options: { queue: boolean }): Promise<void> {
  const target: PauseTarget = { kind: options.queue ? 'queue' : 'worker', name };
  const changed = await backend.resume(target);
  console.log(changed ? `Resumed ${target.kind} ${name}.` : `${target.kind} ${name} was not paused.`);
}

/** `processing` jobs not updated for `fromAge` minutes go back to `queued`. */
export async function requeueJobs({ backend }: JobSession, fromAge: number, now = Date.now()): Promise<void> {
  const count = await backend.requeue(now - fromAge * MINUTE_MS);
  const age = fromAge > 0 ? ` not updated for ${plural(fromAge, 'minute')}` : '';
  console.log(`Requeued ${plural(count, 'processing job')}${age}.`);
}
