import type { Hono } from 'hono';
import type { Queue } from './app-queue.js';
import type { AppContext } from './context.js';
import type { TaskRegistry } from './task.js';

/**
 * The app's hooks, as in Loco's `impl Hooks for App`. An app exports a class implementing it
 * (`export class App implements Hooks`), or a plain object of this shape.
 */
export interface Hooks {
  /** Shown in logs and by `/_ping`. (Default: the `name` of the app's package.json) */
  appName?: string;
  /** Registers the app's workers: `queue.register(MyWorker.build(ctx))`. */
  connectWorkers(ctx: AppContext, queue: Queue): void | Promise<void>;
  /** Registers the app's tasks, run by `loco task <name>`: `tasks.register(new CleanupTask())`. */
  registerTasks?(tasks: TaskRegistry): void | Promise<void>;
  /** Adds the app's HTTP routes to the server. */
  routes?(app: Hono, ctx: AppContext): void | Promise<void>;
  /**
   * Runs once the app has booted, in every `loco start` mode and in `loco scheduler`, before the
   * server, the worker or the scheduler starts: for whatever else the app needs running.
   */
  afterBoot?(ctx: AppContext): void | Promise<void>;
  /** Runs at shutdown, after the workers have stopped. */
  onShutdown?(ctx: AppContext): void | Promise<void>;
}

/** An app as exported by `src/app.ts`: a class with a no-argument constructor, or an object. */
export type AppDefinition = Hooks | (new () => Hooks);
