import { Command, Option } from 'commander';
import { checkAdminConfig } from '../admin/check.js';
import { boot } from '../boot.js';
import { LocoError } from '../errors.js';
import { handleUnhandledRejections } from '../rejections.js';
import { type PreparedScheduler, prepareScheduler } from '../scheduler/start.js';
import { scheduledTasks } from '../scheduler/tasks.js';
import { loadApp } from './load-app.js';

interface StartOptions {
  worker?: string | true;
  serverAndWorker?: boolean;
  all?: boolean;
  environment?: string;
  port?: string;
  binding?: string;
}

/** `loco start`: the HTTP server, a worker process, or both; `--all` adds the scheduler. */
export function startCommand(): Command {
  return new Command('start')
    .description('Start the app: the HTTP server (default), a worker process (--worker), or both')
    .addOption(
      new Option(
        '-w, --worker [tags]',
        'run a worker process (no server); with tags, only jobs with one of them (e.g. --worker report,analytics)',
      ).conflicts(['serverAndWorker', 'all']),
    )
    .addOption(
      new Option(
        '-s, --server-and-worker',
        'run the server and a worker in one process (untagged jobs only)',
      ).conflicts(['all']),
    )
    .addOption(
      new Option(
        '-a, --all',
        'run the server, a worker (untagged jobs only) and the scheduler (its jobs: the scheduler: section, and SCHEDULER_CONFIG)',
      ),
    )
    .option('-e, --environment <name>', 'environment (default: LOCO_ENV, NODE_ENV, then development)')
    .option('-p, --port <port>', 'port to listen on (default: server.port)')
    .option('-b, --binding <address>', 'address to bind (default: server.binding, localhost)')
    .action(async (options: StartOptions) => start(options));
}

async function start(options: StartOptions): Promise<void> {
  const root = process.cwd();
  const app = await loadApp(root);
  const booted = await boot(app, { environment: options.environment, root });
  const { ctx } = booted;
  handleUnhandledRejections(ctx.config.workers.unhandled_rejection, ctx.logger);
  const runWorker = options.worker !== undefined || options.serverAndWorker || options.all;
  const runServer = options.worker === undefined;
  const tags = typeof options.worker === 'string' ? parseTags(options.worker) : [];
  if (options.worker !== undefined && ctx.queue.mode !== 'BackgroundQueue') {
    await booted.shutdown();
    throw new LocoError(
      `${ctx.config.file}: workers.mode is ${ctx.queue.mode}, so there is no shared queue for a worker process to take jobs from. ` +
        (ctx.queue.mode === 'BackgroundAsync'
          ? 'Jobs run inside the server process (loco start or loco start --server-and-worker); '
          : '') +
        'for worker processes set workers.mode: BackgroundQueue with a queue: section.',
    );
  }

  if (runServer) {
    try {
      checkAdminConfig(ctx);
    } catch (err) {
      await booted.shutdown();
      throw err;
    }
  }

  let scheduler: PreparedScheduler | undefined;
  if (options.all) {
    try {
      scheduler = prepareScheduler(ctx, {
        file: process.env.SCHEDULER_CONFIG || undefined,
        tasks: scheduledTasks(booted.tasks, ctx),
      });
    } catch (err) {
      await booted.shutdown();
      throw err;
    }
  }

  const { logger } = ctx;
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.error(`${signal} again: exiting now, without waiting for running jobs.`);
      process.exit(130);
    }
    logger.info(
      `${signal}: stopping; running jobs get ${ctx.config.workers.shutdown_timeout_sec} s to finish ` +
        '(workers.shutdown_timeout_sec), then go back to the queue (send it again to exit at once).',
    );
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  await booted.hooks.afterBoot?.(ctx);
  const tasks: Promise<unknown>[] = [];
  /** Jobs handed back to the queue because the shutdown timeout passed. */
  let interrupted = 0;
  if (runServer) {
    const { createHttpApp, listen } = await import('../server.js');
    const http = await createHttpApp(booted);
    const port = options.port !== undefined ? parsePort(options.port) : ctx.config.server.port;
    const { server, url } = await listen(http, port, options.binding ?? ctx.config.server.binding);
    logger.info(`${ctx.appName} (${ctx.environment}) listening on ${url}`);
    tasks.push(
      new Promise<void>((resolve) =>
        stop.signal.addEventListener('abort', () => server.close(() => resolve()), { once: true }),
      ),
    );
  }
  if (runWorker && ctx.queue.mode === 'BackgroundQueue') {
    const backend = ctx.queue.backend;
    logger.info(
      `worker started: ${backend?.kind} queue ${backend?.display}, ${ctx.config.queue.num_workers} at once, ` +
        `${tags.length ? `tags ${tags.join(', ')}` : 'untagged jobs only'}; workers: ${ctx.queue.names().join(', ') || 'none registered'}`,
    );
    tasks.push(
      booted.runWorkers({ tags, signal: stop.signal }).then((result) => {
        interrupted = result.interrupted;
      }),
    );
  }
  if (scheduler && scheduler.jobs.length === 0) {
    logger.info(`scheduler: no jobs (no scheduler: section in ${ctx.config.file}, and no SCHEDULER_CONFIG file).`);
  } else if (scheduler) {
    logger.info(
      `scheduler started: ${scheduler.jobs.map((job) => job.name).join(', ')}; times claimed in ${scheduler.claimedIn}`,
    );
    tasks.push(scheduler.run(stop.signal));
  }
  if (ctx.queue.mode === 'BackgroundAsync') {
    logger.info(`jobs run in this process (BackgroundAsync), ${ctx.config.queue.num_workers} at once.`);
  } else if (!runWorker && ctx.queue.mode === 'BackgroundQueue') {
    logger.info('jobs are queued for worker processes (loco start --worker); this process runs none.');
  }
  await Promise.race([
    Promise.all(tasks),
    new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true })),
  ]);
  await Promise.all(tasks);
  await booted.shutdown();
  if (interrupted > 0) {
    logger.error(
      `stopped, forced: ${interrupted} job(s) were still running after workers.shutdown_timeout_sec ` +
        `(${ctx.config.workers.shutdown_timeout_sec} s) and went back to the queue; exit code ${FORCED_EXIT_CODE}.`,
    );
    process.exit(FORCED_EXIT_CODE);
  }
  logger.info('stopped.');
  process.exit(0);
}

/** The exit code of a shutdown that handed running jobs back once its timeout passed (as timeout(1)). */
export const FORCED_EXIT_CODE = 124;

function parseTags(value: string): string[] {
  const tags = value
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
  if (tags.length === 0)
    throw new LocoError(`--worker: expected tags such as email or report,analytics, found '${value}'.`);
  return tags;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new LocoError(`--port: expected a whole number from 0 to 65535, found '${value}'.`);
  }
  return port;
}
