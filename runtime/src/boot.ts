import { loadConfig, resolveEnvironment } from './config/load.js';
import type { LocoConfig } from './config/schema.js';
import type { AppContext, AppDefinition, Hooks } from './context.js';
import { LocoError } from './errors.js';
import type { QueueBackend } from './queue/backend.js';
import { createBackend } from './queue/create.js';
import { InProcessBackend } from './queue/memory.js';
import { Queue } from './queue.js';
import { TaskRegistry } from './task.js';
import { runWorkerLoop, type WorkerLogger } from './worker-loop.js';

/** Options of `boot`. */
export interface BootOptions {
  /** The environment. (Default: `LOCO_ENV`, then `NODE_ENV`, then `development`) */
  environment?: string;
  /** The app's root folder. (Default: the current directory) */
  root?: string;
  /** An already-loaded config, instead of reading `config/<env>.yaml`. */
  config?: LocoConfig;
  logger?: WorkerLogger;
}

/** A booted app: its context and hooks, and how to run workers and shut down. */
export interface BootedApp {
  ctx: AppContext;
  hooks: Hooks;
  /** The app's tasks, as its `registerTasks` hook registered them. */
  tasks: TaskRegistry;
  /**
   * Starts the worker loop on the app's queue with the given tags (see the tag rules).
   * Resolves when `signal` aborts and running jobs have finished.
   */
  runWorkers(options: { tags: string[]; signal: AbortSignal; concurrency?: number }): Promise<void>;
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
  const backend = await openBackend(config, root);
  const queue = new Queue(config.workers.mode, backend);
  const ctx: AppContext = { environment, config, queue, root };
  const queueConfig = config.queue;
  const settings = {
    concurrency: queueConfig?.num_workers ?? 2,
    pollIntervalMs: (queueConfig?.poll_interval_sec ?? 1) * 1000,
    leaseMs: (queueConfig?.lease_sec ?? 30) * 1000,
  };
  const runWorkers: BootedApp['runWorkers'] = ({ tags, signal, concurrency }) => {
    if (!backend) {
      throw new LocoError(
        `${config.file}: workers.mode is ${config.workers.mode}; worker processes need workers.mode: BackgroundQueue ` +
          'with a queue: section (kind and uri).',
      );
    }
    return runWorkerLoop({
      ...settings,
      concurrency: concurrency ?? settings.concurrency,
      backend,
      queue,
      tags,
      signal,
      logger: options.logger,
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
  let poolDone: Promise<void> | undefined;
  if (config.workers.mode === 'BackgroundAsync' && backend) {
    poolDone = runWorkerLoop({
      ...settings,
      backend,
      queue,
      tags: [],
      anyTag: true,
      signal: pool.signal,
      logger: options.logger,
    });
  }

  return {
    ctx,
    hooks,
    tasks,
    runWorkers,
    async shutdown() {
      pool.abort();
      await poolDone;
      await backend?.close();
      await hooks.onShutdown?.(ctx);
    },
  };
}

async function openBackend(config: LocoConfig, root: string): Promise<QueueBackend | undefined> {
  switch (config.workers.mode) {
    case 'ForegroundBlocking':
      return undefined;
    case 'BackgroundAsync': {
      const backend = new InProcessBackend();
      await backend.init({ flush: false });
      return backend;
    }
    case 'BackgroundQueue': {
      if (!config.queue) {
        throw new LocoError(
          `${config.file}: workers.mode is BackgroundQueue but there is no queue: section, so jobs would have ` +
            'nowhere to go. Add queue: with kind (Sqlite, Postgres or Redis) and uri, or use workers.mode: BackgroundAsync.',
        );
      }
      const backend = await createBackend(config.queue, root);
      try {
        await backend.init({ flush: config.queue.dangerously_flush });
      } catch (err) {
        await backend.close().catch(() => undefined);
        throw err;
      }
      return backend;
    }
  }
}
