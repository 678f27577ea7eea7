import type { AppContext } from '../context.js';
import { type TaskRegistry, TaskVars } from '../task.js';

/**
 * The tasks a scheduler job can run (`run: "report year:2024"` without `shell: true`): all the
 * scheduler needs of the app's task registry, so that it can be handed one (and tests a fake).
 */
export interface ScheduledTasks {
  /** The names of the registered tasks, to check `run:` against at boot. */
  names(): string[];
  /** Runs a task with Loco's `key:value` args, as written after its name. Rejects when it fails. */
  run(name: string, args: string[]): Promise<void>;
}

/** The app's task registry as the scheduler runs it: each run gets its `key:value` args as `TaskVars`. */
export function scheduledTasks(registry: TaskRegistry, ctx: AppContext): ScheduledTasks {
  return {
    names: () => registry.list().map((task) => task.name),
    run: (name, args) => registry.getOrThrow(name).run(ctx, TaskVars.parse(args, name)),
  };
}

/** No tasks: every task job is refused at boot as naming an unknown task. */
export const NO_TASKS: ScheduledTasks = {
  names: () => [],
  run: (name) => Promise.reject(new Error(`no task named '${name}' is registered`)),
};
