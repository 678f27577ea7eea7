import { Command } from 'commander';
import pc from 'picocolors';
import { boot } from '../boot.js';
import { describeError, LocoError } from '../errors.js';
import { TaskVars } from '../task.js';
import { loadApp } from './load-app.js';

interface TaskOptions {
  environment?: string;
}

/**
 * `loco task`: lists the app's tasks; `loco task <name> key:value ...` boots the app, runs the
 * task with those vars, shuts the app down, and exits 0, or 1 with the task's error.
 */
export function taskCommand(): Command {
  return new Command('task')
    .description("List the app's tasks, or run one: loco task <name> [key:value ...]")
    .argument('[name]', 'the task to run; without it, the tasks are listed')
    .argument('[vars...]', 'vars for the task, as key:value pairs (e.g. days:30)')
    .option('-e, --environment <name>', 'environment (default: LOCO_ENV, NODE_ENV, then development)')
    .action(async (name: string | undefined, vars: string[], options: TaskOptions) => {
      process.exit(await task(name, vars, options));
    });
}

async function task(name: string | undefined, args: string[], options: TaskOptions): Promise<number> {
  // Bad vars are refused before the app boots.
  const vars = name === undefined ? undefined : TaskVars.parse(args, name);
  const root = process.cwd();
  const booted = await boot(await loadApp(root), { environment: options.environment, root });
  try {
    if (name === undefined || vars === undefined) {
      console.log(listing(booted.tasks.list()));
      return 0;
    }
    const found = booted.tasks.getOrThrow(name);
    const started = performance.now();
    try {
      await found.run(booted.ctx, vars);
    } catch (err) {
      const shown = err instanceof LocoError && !process.env.LOCO_DEBUG ? err.message : describeError(err);
      console.error(pc.red(`error: task '${name}' failed: ${shown}`));
      return 1;
    }
    console.error(pc.dim(`task '${name}' done in ${Math.round(performance.now() - started)} ms`));
    return 0;
  } finally {
    await booted.shutdown();
  }
}

/** The tasks and their descriptions in two columns, or how to add one when there are none. */
function listing(tasks: Array<{ name: string; description: string }>): string {
  if (tasks.length === 0) {
    return (
      'No tasks registered. Add one with npx loco-gen task <name> (it writes src/tasks/<name>.ts and ' +
      'registers it in registerTasks in src/app.ts), then run it with npx loco task <name>.'
    );
  }
  const width = Math.max(...tasks.map((task) => task.name.length));
  const lines = tasks.map((task) => `  ${task.name.padEnd(width)}  ${task.description}`.trimEnd());
  return ['Tasks (run one with npx loco task <name> [key:value ...]):', ...lines].join('\n');
}
