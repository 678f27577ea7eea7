import type { AppContext } from './context.js';
import { LocoError, RegistryError } from './errors.js';

/**
 * A one-off job run from the command line, as Loco's tasks: `npx loco task cleanup key:value`.
 * Subclass it, give it a `name`, implement `run`, and register an instance in the app's
 * `registerTasks` hook with `tasks.register(new CleanupTask())`.
 */
export abstract class Task {
  /** The name `loco task <name>` runs it by, snake_case like Loco's (e.g. 'cleanup'). */
  abstract readonly name: string;
  /** One line shown by `loco task`. */
  readonly description: string = '';
  /**
   * Does the work, with the booted app's context and the vars given on the command line. A
   * thrown error fails the run: `loco task` prints it and exits 1.
   */
  abstract run(ctx: AppContext, vars: TaskVars): Promise<void>;
}

/** The `key:value` pairs given after the task's name: `loco task cleanup days:30 dry_run:true`. */
export class TaskVars {
  private readonly values: Map<string, string>;

  /**
   * @param values the vars by key
   * @param task the task they are for, named in the message of `require`
   */
  constructor(
    values: Record<string, string> = {},
    private readonly task?: string,
  ) {
    this.values = new Map(Object.entries(values));
  }

  /**
   * Reads `key:value` arguments. The value is everything after the first `:` (so it may hold
   * more, as URLs do) and may be empty; a key given twice keeps its last value.
   *
   * @param task the task they are for, named in messages
   * @throws LocoError naming an argument without `:` or with an empty key
   */
  static parse(args: string[], task?: string): TaskVars {
    const values: Record<string, string> = {};
    const example = `loco task ${task ?? '<name>'} key:value`;
    for (const arg of args) {
      const colon = arg.indexOf(':');
      if (colon === -1) {
        throw new LocoError(`Task vars are key:value pairs; '${arg}' has no ':'. Pass it as ${example}.`);
      }
      if (colon === 0) {
        throw new LocoError(`Task vars are key:value pairs; '${arg}' has an empty key. Pass it as ${example}.`);
      }
      values[arg.slice(0, colon)] = arg.slice(colon + 1);
    }
    return new TaskVars(values, task);
  }

  /** The value given for `key`, or undefined. */
  get(key: string): string | undefined {
    return this.values.get(key);
  }

  /**
   * The value given for `key`.
   *
   * @throws LocoError naming the key and how to pass it, when it was not given
   */
  require(key: string): string {
    const value = this.values.get(key);
    if (value === undefined) {
      const given = this.values.size > 0 ? `given: ${[...this.values.keys()].join(', ')}` : 'none were given';
      throw new LocoError(
        `The task ${this.task ? `'${this.task}' ` : ''}needs the var '${key}' (${given}). ` +
          `Pass it as loco task ${this.task ?? '<name>'} ${key}:<value>.`,
      );
    }
    return value;
  }

  /** Every var, by key. */
  all(): Record<string, string> {
    return Object.fromEntries(this.values);
  }
}

/** The app's tasks by name: filled by the `registerTasks` hook at boot, read by `loco task`. */
export class TaskRegistry {
  private readonly tasks = new Map<string, Task>();

  /**
   * Registers a task under its `name`.
   *
   * @throws RegistryError when the name is empty or another task has it, naming both classes
   */
  register(task: Task): void {
    const type = task?.constructor?.name ?? typeof task;
    if (!task || typeof task.run !== 'function') {
      throw new RegistryError(
        `tasks.register() was given ${type}, not a task. Register an instance: tasks.register(new CleanupTask()).`,
      );
    }
    if (typeof task.name !== 'string' || task.name.trim() === '') {
      throw new RegistryError(
        `The task ${type} has no name. Give it one: readonly name = 'cleanup'; (the name loco task runs it by).`,
      );
    }
    const existing = this.tasks.get(task.name);
    if (existing) {
      throw new RegistryError(
        `Two tasks are registered under the name '${task.name}': ${existing.constructor.name} and ${type}. ` +
          'Register each task once, or give one of them another name.',
      );
    }
    this.tasks.set(task.name, task);
  }

  /** The task registered under `name`, or undefined. */
  get(name: string): Task | undefined {
    return this.tasks.get(name);
  }

  /**
   * The task registered under `name`.
   *
   * @throws RegistryError listing the registered tasks (and the one meant, for a near name)
   */
  getOrThrow(name: string): Task {
    const task = this.tasks.get(name);
    if (task) return task;
    const names = [...this.tasks.keys()].sort();
    const near = nearestName(name, names);
    throw new RegistryError(
      `No task is registered under the name '${name}'${near ? ` (did you mean ${near}?)` : ''}. ` +
        (names.length > 0
          ? `Registered tasks: ${names.join(', ')}. `
          : 'No tasks are registered; npx loco-gen task <name> adds one. ') +
        'Tasks are registered in the registerTasks hook of src/app.ts: tasks.register(new CleanupTask()).',
    );
  }

  /** Every registered task, sorted by name. */
  list(): Task[] {
    return [...this.tasks.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** The registered name `name` is most likely a typo of: the same but for case, or one or two edits away. */
function nearestName(name: string, names: string[]): string | undefined {
  const lower = name.toLowerCase();
  const byCase = names.find((candidate) => candidate.toLowerCase() === lower);
  if (byCase) return byCase;
  const limit = name.length <= 4 ? 1 : 2;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of names) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
