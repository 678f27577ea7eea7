import type { Queue } from './app-queue.js';
import { type BootedApp, boot } from './boot.js';
import type { AppContext } from './context.js';
import type { AppDefinition } from './hooks.js';
import { TaskVars } from './task.js';

/** What `bootTest` returns. */
export interface TestBoot {
  /** The app context, for `MyWorker.performLater(boot.ctx, args)`. */
  ctx: AppContext;
  queue: Queue;
  app: BootedApp;
  /** Closes the queue; call it in `finally`. */
  shutdown(): Promise<void>;
  /** Runs a task registered in `registerTasks` with these vars; throws if none has that name. */
  runTask(name: string, vars?: Record<string, string>): Promise<void>;
}

/**
 * Boots the app for a test with `config/test.yaml` (whose `workers.mode: ForegroundBlocking`
 * makes `performLater` run the job inline and throw its error).
 */
export async function bootTest(
  app: AppDefinition,
  options: { environment?: string; root?: string } = {},
): Promise<TestBoot> {
  const booted = await boot(app, { environment: options.environment ?? 'test', root: options.root });
  return {
    ctx: booted.ctx,
    queue: booted.ctx.queue,
    app: booted,
    shutdown: () => booted.shutdown(),
    runTask: async (name, vars = {}) => booted.tasks.getOrThrow(name).run(booted.ctx, new TaskVars(vars, name)),
  };
}
