import path from 'node:path';
import { boot } from '../../boot.js';
import { loadConfig } from '../../config/load.js';
import type { LocoConfig } from '../../config/schema.js';
import type { AppContext } from '../../context.js';
import { LocoError } from '../../errors.js';
import type { QueueBackend } from '../../queue/backend.js';
import type { Queue } from '../../queue.js';
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

/**
 * Loads the config for `environment`, checks it names a durable queue, loads the app
 * (`src/app.ts`) and boots it so its registered workers are known, runs `command`, and shuts
 * the app down whatever happens.
 *
 * `dangerously_flush` is ignored here: it is meant for starting an app, and clearing the queue
 * before a dump or an import would destroy the very jobs the operator came to manage.
 */
export async function withJobQueue<T>(
  environment: string | undefined,
  command: (session: JobSession) => Promise<T>,
): Promise<T> {
  const root = process.cwd();
  const loaded = loadConfig({ environment, root });
  const configFile = displayPath(loaded.file, root);
  requireDurableQueue(loaded, configFile);
  const config: LocoConfig & { environment: string } = {
    ...loaded,
    queue: { ...loaded.queue!, dangerously_flush: false },
  };

  const app = await loadApp(root);
  const booted = await boot(app, { environment: loaded.environment, root, config });
  try {
    // requireDurableQueue made sure of BackgroundQueue with a queue: section, so boot opened its store.
    const backend = booted.ctx.queue.backend!;
    return await command({ ctx: booted.ctx, queue: booted.ctx.queue, backend, configFile });
  } finally {
    await booted.shutdown();
  }
}

function requireDurableQueue(config: LocoConfig, file: string): void {
  const fix =
    `To manage jobs, set workers.mode: BackgroundQueue and a queue: section with kind (Sqlite, Postgres or Redis) ` +
    `and uri in ${file}, or pick an environment that has them with -e/--environment.`;
  switch (config.workers.mode) {
    case 'ForegroundBlocking':
      throw new LocoError(
        `${file}: workers.mode is ForegroundBlocking: jobs run inline when enqueued, so there is no job queue for loco jobs to manage. ${fix}`,
      );
    case 'BackgroundAsync':
      throw new LocoError(
        `${file}: workers.mode is BackgroundAsync: jobs live only in the memory of the process that enqueued them, ` +
          `so there is no job queue for loco jobs to manage. ${fix}`,
      );
    case 'BackgroundQueue':
      if (!config.queue) {
        throw new LocoError(
          `${file}: workers.mode is BackgroundQueue but there is no queue: section, so there is no job queue for loco jobs to manage. ` +
            `Add queue: with kind (Sqlite, Postgres or Redis) and uri to ${file}, for example kind: Sqlite and ` +
            `uri: "sqlite://loco_development.sqlite?mode=rwc".`,
        );
      }
  }
}

function displayPath(file: string, root: string): string {
  const relative = path.relative(root, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
