/**
 * Puts a scheduler on a booted app: reads its jobs (the `scheduler:` section and the dedicated
 * file), checks every task and worker they name, and returns what runs them. Used by
 * `loco scheduler` and `loco start --all`; everything is checked before anything starts.
 */
import type { AppContext } from '../context.js';
import { InProcessBackend } from '../queue/memory/backend.js';
import { checkJobTargets, loadSchedulerJobs, type ScheduledJob, selectJobs } from './config.js';
import { runSchedulerLoop, type SchedulerClock } from './loop.js';
import type { OutputLines } from './output.js';
import { jobRunner } from './runner.js';
import { NO_TASKS, type ScheduledTasks } from './tasks.js';

/** Options of `prepareScheduler`. */
export interface PrepareSchedulerOptions {
  /** The dedicated scheduler file, relative to the app's root: `--config`, else `SCHEDULER_CONFIG`. (Default: none) */
  file?: string;
  /** Only the job of this name (`--name`). */
  name?: string;
  /** Only the jobs with this tag (`--tag`). */
  tag?: string;
  /** The tasks `run:` may name. (Default: none, so a task job is an error) */
  tasks?: ScheduledTasks;
  /** Where `output: stdout` lines go. (Default: this process's stdout and stderr) */
  print?: OutputLines;
  /** (Default: the system clock) */
  clock?: SchedulerClock;
}

/** A checked scheduler, ready to run. */
export interface PreparedScheduler {
  /** The jobs it runs, after `name` and `tag`; empty when no job is configured at all. */
  jobs: ScheduledJob[];
  /** Where the times are claimed, for the start line: `Sqlite queue sqlite:///app/q.sqlite`. */
  claimedIn: string;
  /** Runs the jobs until `signal` aborts; resolves once their runs in progress have ended. */
  run(signal: AbortSignal): Promise<void>;
}

/** Reads and checks the app's scheduler jobs; throws a `ConfigError` (naming file and job) before anything starts. */
export function prepareScheduler(ctx: AppContext, options: PrepareSchedulerOptions = {}): PreparedScheduler {
  const tasks = options.tasks ?? NO_TASKS;
  const all = loadSchedulerJobs({ config: ctx.config, file: options.file, root: ctx.root });
  checkJobTargets(all, { tasks: tasks.names(), workers: ctx.queue.names() });
  const jobs = selectJobs(all, { name: options.name, tag: options.tag });
  // The app's store when processes share it; otherwise (ForegroundBlocking, BackgroundAsync) this process alone.
  const store = ctx.queue.backend;
  const claimer = store ?? new InProcessBackend();
  const claimedIn = store?.capabilities.shared
    ? `${store.kind} queue ${store.display}`
    : `this process only (workers.mode is ${ctx.queue.mode}; with several scheduler processes, use BackgroundQueue)`;
  const run = jobRunner({
    root: ctx.root,
    environment: ctx.environment,
    tasks,
    queue: ctx.queue,
    logger: ctx.logger,
    print: options.print,
  });
  return {
    jobs,
    claimedIn,
    run: (signal) => runSchedulerLoop({ jobs, claimer, run, signal, logger: ctx.logger, clock: options.clock }),
  };
}
