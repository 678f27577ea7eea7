import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { boot } from '../boot.js';
import { LocoError } from '../errors.js';
import { handleUnhandledRejections } from '../rejections.js';
import { formatJobList } from '../scheduler/list.js';
import { type PreparedScheduler, prepareScheduler } from '../scheduler/start.js';
import { scheduledTasks } from '../scheduler/tasks.js';
import { loadApp } from './load-app.js';

interface SchedulerOptions {
  config?: string;
  list?: boolean;
  name?: string;
  tag?: string;
  environment?: string;
}

/** `loco scheduler`: the scheduler in the foreground, as Loco's `cargo loco scheduler`. */
export function schedulerCommand(): Command {
  return new Command('scheduler')
    .description(
      "Run the scheduler in the foreground: the jobs of the config's scheduler: section and of the scheduler file",
    )
    .option('-c, --config <file>', 'a scheduler file, such as config/scheduler.yaml (default: SCHEDULER_CONFIG)')
    .option('-l, --list', 'list the jobs with their next three times, and exit')
    .option('-n, --name <job>', 'run only the job of this name')
    .option('-t, --tag <tag>', 'run only the jobs with this tag')
    .option('-e, --environment <name>', 'environment (default: LOCO_ENV, NODE_ENV, then development)')
    .action(async (options: SchedulerOptions) => runScheduler(options));
}

async function runScheduler(options: SchedulerOptions): Promise<void> {
  const root = process.cwd();
  const app = await loadApp(root);
  const booted = await boot(app, { environment: options.environment, root });
  const { ctx } = booted;
  const file = options.config ?? (process.env.SCHEDULER_CONFIG || undefined);
  let scheduler: PreparedScheduler;
  try {
    scheduler = prepareScheduler(ctx, {
      file,
      name: options.name,
      tag: options.tag,
      tasks: scheduledTasks(booted.tasks, ctx),
    });
    if (scheduler.jobs.length === 0) throw noJobs(ctx.config.file, root, file);
  } catch (err) {
    await booted.shutdown();
    throw err;
  }
  if (options.list) {
    console.log(formatJobList(scheduler.jobs, Date.now()));
    await booted.shutdown();
    return;
  }

  const { logger } = ctx;
  handleUnhandledRejections(ctx.config.workers.unhandled_rejection, logger);
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.error(`${signal} again: exiting now, without waiting for running jobs.`);
      process.exit(130);
    }
    logger.info(`${signal}: stopping; runs in progress finish first (send it again to exit at once).`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  await booted.hooks.afterBoot?.(ctx);
  logger.info(
    `scheduler started: ${scheduler.jobs.map((job) => job.name).join(', ')}; times claimed in ${scheduler.claimedIn}`,
  );
  await scheduler.run(stop.signal);
  await booted.shutdown();
  logger.info('stopped.');
  process.exit(0);
}

/** Nothing to schedule: where jobs go, and the file the user may have meant. */
function noJobs(configFile: string, root: string, file: string | undefined): LocoError {
  const generated = path.join(root, 'config/scheduler.yaml');
  const hint =
    !file && existsSync(generated)
      ? ' config/scheduler.yaml exists: run loco scheduler --config config/scheduler.yaml, or set SCHEDULER_CONFIG=config/scheduler.yaml.'
      : ' Write config/scheduler.yaml with npx loco-gen scheduler and pass it with --config (or SCHEDULER_CONFIG).';
  return new LocoError(
    `No scheduler jobs: ${configFile} has no scheduler: section with jobs${file ? `, nor has ${file}` : ''}.${hint}`,
  );
}
