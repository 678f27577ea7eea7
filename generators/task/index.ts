import path from 'node:path';
import { type ClassGenerator, type GenerateOptions, generate } from '../shared/generate.js';
import { templatesDir } from '../shared/paths.js';
import { type TaskNames, taskNames } from './names.js';
import { taskRegistration } from './registration.js';

/** Tasks: `src/tasks/<name>.ts`, its test, and `tasks.register(new X())` in `registerTasks`. */
export const TASK_GENERATOR: ClassGenerator<TaskNames> = {
  kind: 'task',
  folder: 'tasks',
  suffix: 'Task',
  names: taskNames,
  templates: (folder) => ({
    source: path.join(folder, 'task.ts.hbs'),
    test: path.join(folder, 'task.test.ts.hbs'),
  }),
  registration: (names) => taskRegistration({ className: names.className, modulePath: `./tasks/${names.fileName}` }),
  hookDeclaration: "registerTasks(tasks: TaskRegistry) {} in the App, with TaskRegistry imported from 'loco-runtime'",
};

/**
 * `loco-gen task <name>`: writes `src/tasks/<name>.ts` and `tests/tasks/<name>.test.ts` and
 * registers the task in `registerTasks` of `src/app.ts`, all or nothing (see `generate`).
 * Returns the exit code: 0 when done (or nothing to do), 1 when refused, with the reason and
 * what to do.
 */
export function generateTask(name: string, options: GenerateOptions = {}): Promise<number> {
  return generate(TASK_GENERATOR, name, options.templates ?? templatesDir('task'), options);
}
