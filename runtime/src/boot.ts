import path from 'node:path';
import { Queue } from './app-queue.js';
import { loadConfig, resolveEnvironment } from './config/load.js';
import { type LocoConfig, storeConfig } from './config/schema.js';
import type { AppContext } from './context.js';
import { ConfigError, LocoError } from './errors.js';
import { observeAll } from './events.js';
import type { AppDefinition, Hooks } from './hooks.js';
import type { JobJournal } from './job-journal.js';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from './logger.js';
import type { QueueMetrics } from './metrics.js';
import type { QueueBackend } from './queue/backend.js';
import { createBackend } from './queue/create.js';
import { InProcessBackend } from './queue/memory/backend.js';
import { readTextFile } from './read-file.js';
import { TaskRegistry } from './task.js';
import { runWorkerLoop, type WorkerLoopResult } from './worker-loop.js';

/** Options of `boot`. */
export interface BootOptions {
  /** The environment. (Default: `LOCO_ENV`, then `NODE_ENV`, then `development`) */
  environment?: string;
  /** The app's root folder. (Default: the current directory) */
  root?: string;
  /** An already-loaded config, instead of reading `config/<env>.yaml`. */
  config?: LocoConfig;
  /** A logger to use instead of the one the config's `logger:` describes (a pino logger fits). */
  logger?: Logger;
  /**
   * Open the store without creating it (no file, schema or tables made): for commands that only
   * read. A missing store is then a `QueueConnectionError`. (Default: false)
   */
  readOnly?: boolean;
  /** Records the jobs enqueued and run (and may hold them back): what `bootTest` reads. (Default: none) */
  journal?: JobJournal;
}

/** A booted app: its context and hooks, and how to run workers and shut down. */
export interface BootedApp {
  ctx: AppContext;
  hooks: Hooks;
  /** The app's tasks, as its `registerTasks` hook registered them. */
  tasks: TaskRegistry;
  /** The queue's Prometheus metrics, when the config's `metrics.enabled` is true. */
  metrics?: QueueMetrics;
  /**
   * Starts the worker loop on the app's queue with the given tags (see the tag rules), and the
   * watchdog (`workers.watchdog_sec`). Resolves when `signal` aborts and running jobs have finished,
   * or were handed back to the queue once `workers.shutdown_timeout_sec` passed (counted in `interrupted`).
   */
  runWorkers(options: { tags: string[]; signal: AbortSignal; concurrency?: number }): Promise<WorkerLoopResult>;
  /** Stops the in-process pool (BackgroundAsync), closes the queue and runs `onShutdown`. */
  shutdown(): Promise<void>;
}

/** Instantiates an app class, or returns an app object as it is. */
export function resolveHooks(app: AppDefinition): Hooks {
  const hooks = typeof app === 'function' ? new app() : app;
  if (!hooks || typeof hooks.connectWorkers !== 'function') {
    throw new LocoError(
      'The app has no connectWorkers(ctx, queue) hook. Export an App class or object from src/app.ts ' +
        'with async connectWorkers(ctx, queue) { queue.register(MyWorker.build(ctx)); }.',
    );
  }
  return hooks;
}

/**
 * Boots an app: loads the config, opens the queue for the configured mode (and, with
 * `dangerously_flush`, clears it), and calls `connectWorkers`. In `BackgroundAsync` mode the
 * in-process pool starts at once.
 */
export async function boot(app: AppDefinition, options: BootOptions = {}): Promise<BootedApp> {
  const root = options.root ?? process.cwd();
  const config = options.config ?? loadConfig({ environment: options.environment, root });
  const environment = resolveEnvironment(options.environment);
  const hooks = resolveHooks(app);
  const appName = hooks.appName ?? packageName(root) ?? 'app';
  const logger = options.logger ?? configLogger(config, appName);
  const backend = await openBackend(config, { root, logger, readOnly: options.readOnly ?? false });
  const queue = new Queue(config.workers.mode, backend, config.queue.max_args_bytes);
  queue.journal = options.journal;
  const ctx: AppContext = { environment, config, queue, root, appName, logger };
  // prom-client is loaded only by apps that turn metrics on.
  const metrics = config.metrics.enabled ? new (await import('./metrics.js')).QueueMetrics(backend) : undefined;
  const loopSettings = {
    concurrency: config.queue.num_workers,
    pollIntervalMs: config.queue.poll_interval_sec * 1000,
    leaseMs: config.queue.lease_sec * 1000,
    prefetch: config.queue.prefetch ?? undefined,
    shutdownTimeoutMs: config.workers.shutdown_timeout_sec * 1000,
    registry: queue.registry,
    logger,
    observer: observeAll(queue.events.observer(logger), metrics?.observer),
  };
  const runWorkers: BootedApp['runWorkers'] = ({ tags, signal, concurrency }) => {
    if (!backend?.capabilities.shared) {
      throw new LocoError(
        `${config.file}: workers.mode is ${config.workers.mode}; worker processes need workers.mode: BackgroundQueue ` +
          'with a queue: section (kind and uri).',
      );
    }
    return runWorkerLoop({
      ...loopSettings,
      concurrency: concurrency ?? loopSettings.concurrency,
      backend,
      tags,
      signal,
      // Worker processes only: the in-process pool of BackgroundAsync shares its process with the server.
      watchdogMs: config.workers.watchdog_sec * 1000,
    });
  };

  const tasks = new TaskRegistry();
  try {
    await hooks.connectWorkers(ctx, queue);
    await hooks.registerTasks?.(tasks);
  } catch (err) {
    await backend?.close();
    throw err;
  }

  const pool = new AbortController();
  let poolDone: Promise<WorkerLoopResult> | undefined;
  if (config.workers.mode === 'BackgroundAsync' && backend) {
    poolDone = runWorkerLoop({ ...loopSettings, backend, tags: [], anyTag: true, signal: pool.signal });
  }

  return {
    ctx,
    hooks,
    tasks,
    metrics,
    runWorkers,
    async shutdown() {
      pool.abort();
      await poolDone;
      await backend?.close();
      await hooks.onShutdown?.(ctx);
    },
  };
}

/** The logger the config's `logger:` section describes; `LOG_LEVEL` wins over its `level`. */
function configLogger(config: LocoConfig, name: string): Logger {
  const fromEnv = process.env.LOG_LEVEL?.trim().toLowerCase();
  if (fromEnv && !(LOG_LEVELS as readonly string[]).includes(fromEnv)) {
    throw new ConfigError(
      'LOG_LEVEL',
      '',
      `the environment variable is '${process.env.LOG_LEVEL}'; use one of ${LOG_LEVELS.join(', ')}, or unset it.`,
    );
  }
  const level: LogLevel | 'silent' = config.logger.enable
    ? ((fromEnv as LogLevel | undefined) ?? config.logger.level)
    : 'silent';
  return createLogger({ level, format: config.logger.format, name });
}

/** The `name` of the app's package.json, if it has one. */
function packageName(root: string): string | undefined {
  try {
    const name = JSON.parse(readTextFile(path.join(root, 'package.json'), 1024 * 1024)).name;
    return typeof name === 'string' && name !== '' ? name : undefined;
  } catch {
    return undefined;
  }
}

async function openBackend(
  config: LocoConfig,
  options: { root: string; logger: Logger; readOnly: boolean },
): Promise<QueueBackend | undefined> {
  switch (config.workers.mode) {
    case 'ForegroundBlocking':
      return undefined;
    case 'BackgroundAsync': {
      const backend = new InProcessBackend();
      await backend.init({ flush: false });
      return backend;
    }
    case 'BackgroundQueue': {
      // validateConfig makes sure BackgroundQueue names a store.
      const store = storeConfig(config.queue)!;
      const backend = await createBackend(store, options);
      try {
        await backend.init({ flush: config.queue.dangerously_flush && !options.readOnly, create: !options.readOnly });
      } catch (err) {
        await backend.close().catch(() => undefined);
        throw err;
      }
      return backend;
    }
  }
}
