import type { Queue } from './app-queue.js';
import type { LocoConfig } from './config/schema.js';
import type { Logger } from './logger.js';

/** What every part of the app gets: config, environment and the queue. */
export interface AppContext {
  /** The environment name (`development`, `test`, `production`, ...). */
  environment: string;
  /** The loaded config file. */
  config: LocoConfig;
  /** The worker registry and the way to enqueue jobs. */
  queue: Queue;
  /** The app's root folder (holding `config/` and `src/`). */
  root: string;
  /** The app's name: `Hooks.appName`, else the `name` of its package.json. */
  appName: string;
  /** The runtime's logger, made from the config's `logger:` section (or given to `boot`). */
  logger: Logger;
}
