import path from 'node:path';
import type { Queue } from '../../app-queue.js';
import { boot } from '../../boot.js';
import { loadConfig } from '../../config/load.js';
import type { LocoConfig } from '../../config/schema.js';
import type { AppContext } from '../../context.js';
import { LocoError } from '../../errors.js';
import type { QueueBackend } from '../../queue/backend.js';
import { loadApp } from '../load-app.js';

/** What a `loco jobs` command works with: the booted app's durable queue. */
export interface JobSession {
  ctx: AppContext;
  /** The registry of the app's workers, and `insert` / `enqueueByName`. */
  queue: Queue;
  /** The configured store (SQLite, Postgres or Redis). */
  backend: QueueBackend;
  /** The config file in use, relative to the app's root where it lies inside it. */
  configFile: string;
}

/** Options of `withJobQueue`. */
export interface JobSessionOptions {
  environment: string | undefined;
  /** The command only reads: a store that does not exist yet is reported, not created. */
  readOnly: boolean;
}

/**
 * Loads the config for `environment`, loads the app (`src/app.ts`) and boots it so its registered
 * workers are known, checks that its store is durable, runs `command`, and shuts the app down
 * whatever happens.
 *
 * `dangerously_flush` is ignored here: it is meant for starting an app, and clearing the queue
 * before a dump or an import would destroy the very jobs the operator came to manage.
 */
export async function withJobQueue<T>(
  options: JobSessionOptions,
  command: (session: JobSession) => Promise<T>,
): Promise<T> {
  const root = process.cwd();
  const loaded = loadConfig({ environment: options.environment, root });
  const configFile = displayPath(loaded.file, root);
  const config: LocoConfig = { ...loaded, queue: { ...loaded.queue, dangerously_flush: false } };

  const app = await loadApp(root);
  const booted = await boot(app, { environment: loaded.environment, root, config, readOnly: options.readOnly });
  try {
    const backend = booted.ctx.queue.backend;
    if (!backend?.capabilities.durable) throw new LocoError(noDurableQueue(config, configFile));
    return await command({ ctx: booted.ctx, queue: booted.ctx.queue, backend, configFile });
  } finally {
    await booted.shutdown();
  }
}

function noDurableQueue(config: LocoConfig, file: string): string {
  const why =
    config.workers.mode === 'ForegroundBlocking'
      ? 'jobs run inline when enqueued'
      : 'jobs live only in the memory of the process that enqueued them';
  return (
    `${file}: workers.mode is ${config.workers.mode}: ${why}, so there is no job queue for loco jobs to manage. ` +
    'To manage jobs, set workers.mode: BackgroundQueue and a queue: section with kind (Sqlite, Postgres or Redis) ' +
    `and uri in ${file}, or pick an environment that has them with -e/--environment.`
  );
}

function displayPath(file: string, root: string): string {
  const relative = path.relative(root, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
