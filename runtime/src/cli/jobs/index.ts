import { Command, Option } from 'commander';
import { MAX_PRIORITY, MIN_PRIORITY } from '../../job-limits.js';
import { JOB_STATUSES, type JobStatus } from '../../queue/backend.js';
import { IMPORT_MAX_BYTES } from './dump-file.js';
import { enqueueJob } from './enqueue.js';
import { listJobs, showStats } from './inspect.js';
import { cancelJobs, pauseJobs, purgeJobs, requeueJobs, resumeJobs, tidyJobs } from './maintenance.js';
import type { JsonArgs } from './options.js';
import {
  parseAge,
  parseDelay,
  parseJsonArgs,
  parseLimit,
  parsePriority,
  parseSize,
  parseStatuses,
  parseTags,
} from './options.js';
import { type JobSession, withJobQueue } from './session.js';
import { retryJobs, showJob } from './show.js';
import { dumpJobs, importJobs } from './transfer.js';

/** `--vacuum` of `tidy` and `purge`. */
const VACUUM_HELP =
  'then give the space back thoroughly: SQLite VACUUM (rewrites the file), Postgres VACUUM (ANALYZE) of the jobs table';

/** Every status but `processing`: what `purge` deletes unless told otherwise. */
const PURGE_STATUSES: JobStatus[] = JOB_STATUSES.filter((status) => status !== 'processing');
const STATUS_LIST = JOB_STATUSES.join(',');

/** Whether a command changes the queue; one that only reads never creates a store. */
type Access = 'read' | 'write';

/**
 * `loco jobs ...`: manage the durable job queue of the app in the current folder (SQLite,
 * Postgres or Redis, whichever its config names). Each command loads `src/app.ts` and boots it
 * for `-e/--environment`, so the app's registered workers are known.
 */
export function jobsCommand(): Command {
  const jobs = new Command('jobs')
    .description(
      'Manage the job queue: cancel, tidy, purge, dump, import, requeue, retry, pause, resume, enqueue, show, list, stats',
    )
    .option('-e, --environment <name>', 'environment (default: LOCO_ENV, NODE_ENV, then development)');

  const sub = (name: string, description: string) => {
    const command = new Command(name).description(description).configureHelp({ showGlobalOptions: true });
    jobs.addCommand(command);
    return command;
  };
  /** Runs an operation on the booted app's queue, with the `-e` given before or after the subcommand. */
  const run =
    <O>(operation: (session: JobSession, options: O, ...args: string[]) => Promise<void>, access: Access = 'write') =>
    async (...received: unknown[]) => {
      const command = received[received.length - 1] as Command;
      const options = command.optsWithGlobals() as O & { environment?: string };
      const args = received.slice(0, -2) as string[];
      await withJobQueue({ environment: options.environment, readOnly: access === 'read' }, (session) =>
        operation(session, options, ...args),
      );
    };

  sub('cancel', 'Cancel the queued jobs of a worker: their status becomes cancelled')
    .requiredOption('-n, --name <WorkerName>', 'the worker (job) name, e.g. DownloadWorker')
    .action(run<{ name: string }>((session, options) => cancelJobs(session, options.name)));

  sub('tidy', "Delete completed and cancelled jobs, then give their space back the store's own way")
    .option('--vacuum', VACUUM_HELP)
    .action(run<{ vacuum?: boolean }>((session, options) => tidyJobs(session, { vacuum: options.vacuum === true })));

  sub('purge', 'Delete jobs last updated more than --max-age days ago')
    .addOption(new Option('--max-age <days>', 'age in days since the last update').argParser(parseAge).default(90))
    .addOption(
      new Option('--status <statuses>', `only jobs in these statuses (${STATUS_LIST})`)
        .argParser(parseStatuses)
        .default(PURGE_STATUSES, PURGE_STATUSES.join(',')),
    )
    .option('--dump <folder>', 'first write the jobs to a dump file in this folder; delete nothing if that fails')
    .option('--vacuum', VACUUM_HELP)
    .action(
      run<{ maxAge: number; status: JobStatus[]; dump?: string; vacuum?: boolean }>((session, options) =>
        purgeJobs(session, {
          maxAge: options.maxAge,
          statuses: options.status,
          dump: options.dump,
          vacuum: options.vacuum === true,
        }),
      ),
    );

  sub('dump', 'Write jobs to loco-dump-jobs-<time>.yaml (Loco-compatible YAML)')
    .addOption(
      new Option('--status <statuses>', `only jobs in these statuses (${STATUS_LIST}; default: all)`).argParser(
        parseStatuses,
      ),
    )
    .option('--folder <dir>', 'folder for the dump file (created if missing)', '.')
    .action(
      run<{ status?: JobStatus[]; folder: string }>(
        (session, options) => dumpJobs(session, { statuses: options.status, folder: options.folder }),
        'read',
      ),
    );

  sub('import', "Enqueue the jobs of a dump file (this tool's or Loco's) as new queued jobs, all or none")
    .requiredOption('-f, --file <path>', 'the dump file, e.g. ./backup/loco-dump-jobs-2024-11-28-08-04-25.yaml')
    .option(
      '--keep-status',
      'restore each job as it was (status, attempts, error, times) instead of as a new queued job',
    )
    .addOption(
      new Option('--max-size <size>', 'refuse a bigger file (bytes, or 64MiB, 1GB)')
        .argParser(parseSize)
        .default(IMPORT_MAX_BYTES, '64MiB'),
    )
    .action(
      run<{ file: string; keepStatus?: boolean; maxSize: number }>((session, options) =>
        importJobs(session, options.file, { keepStatus: Boolean(options.keepStatus), maxBytes: options.maxSize }),
      ),
    );

  sub(
    'requeue',
    'Return processing jobs not updated for --from-age minutes to queued (a job still running in a live worker runs again; ' +
      "the old run's outcome is then ignored; jobs of dead workers come back by themselves when their lease runs out)",
  )
    .addOption(new Option('--from-age <minutes>', 'minutes since the last update').argParser(parseAge).default(0))
    .action(run<{ fromAge: number }>((session, options) => requeueJobs(session, options.fromAge)));

  sub('enqueue', 'Enqueue a job for a registered worker by hand; prints the job id')
    .argument('<WorkerName>', 'the worker (job) name, e.g. DownloadWorker')
    .addOption(
      new Option('--args <json>', 'the job args as a JSON object')
        .argParser(parseJsonArgs)
        .default({ value: {} }, '{}'),
    )
    .addOption(
      new Option('--tags <tags>', "the job's tags, comma-separated (default: the worker's tags())").argParser(
        parseTags,
      ),
    )
    .addOption(
      new Option('--delay <duration>', 'run no earlier than this from now: 500ms, 30s, 5m, 2h, 1d').argParser(
        parseDelay,
      ),
    )
    .option('--key <key>', "the job's unique key: a queued job of this worker with the same key is matched, not added")
    .addOption(
      new Option(
        '--priority <n>',
        `higher runs first among due jobs (${MIN_PRIORITY} to ${MAX_PRIORITY}; default: the worker's priority())`,
      ).argParser(parsePriority),
    )
    .action(
      run<{ args: JsonArgs; tags?: string[]; delay?: number; key?: string; priority?: number }>(
        (session, options, name) =>
          enqueueJob(session, name, {
            args: options.args.value,
            tags: options.tags,
            delay: options.delay,
            key: options.key,
            priority: options.priority,
          }),
      ),
    );

  sub('list', 'Show jobs as a table, newest first')
    .addOption(
      new Option('--status <statuses>', `only jobs in these statuses (${STATUS_LIST})`).argParser(parseStatuses),
    )
    .option('--name <WorkerName>', 'only jobs of this worker')
    .addOption(new Option('--limit <n>', 'at most this many jobs').argParser(parseLimit).default(50))
    .action(
      run<{ status?: JobStatus[]; name?: string; limit: number }>(
        (session, options) => listJobs(session, { statuses: options.status, name: options.name, limit: options.limit }),
        'read',
      ),
    );

  sub('show', "Show one job's record: status, attempts, args, last error with its stack, times, tags, priority, key")
    .argument('<id>', 'the job id, as printed by enqueue or list')
    .action(run((session, _options, id) => showJob(session, id), 'read'));

  sub('retry', 'Put failed jobs (and cancelled ones with --cancelled) back in the queue, due now, attempts reset')
    .addOption(new Option('--id <ids...>', 'only these jobs (each must be failed, or cancelled with --cancelled)'))
    .option('--name <WorkerName>', 'only jobs of this worker')
    .option('--cancelled', 'cancelled jobs too')
    .action(
      run<{ id?: string[]; name?: string; cancelled?: boolean }>((session, options) =>
        retryJobs(session, { ids: options.id, name: options.name, cancelled: Boolean(options.cancelled) }),
      ),
    );

  sub('pause', "Stop every process from claiming a worker's jobs (or a queue's, with --queue) until resume")
    .argument('<name>', 'the worker (job) name, e.g. SyncInvoicesWorker, or with --queue a queue name')
    .option('--queue', 'pause a named queue instead of a worker')
    .action(
      run<{ queue?: boolean }>((session, options, name) => pauseJobs(session, name, { queue: Boolean(options.queue) })),
    );

  sub('resume', 'Let a paused worker (or queue, with --queue) be claimed again')
    .argument('<name>', 'the worker (job) name, or with --queue a queue name')
    .option('--queue', 'resume a named queue instead of a worker')
    .action(
      run<{ queue?: boolean }>((session, options, name) =>
        resumeJobs(session, name, { queue: Boolean(options.queue) }),
      ),
    );

  sub('stats', 'Count jobs by worker name and status').action(run((session) => showStats(session), 'read'));

  return jobs;
}
