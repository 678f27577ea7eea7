import { addToHook, type CodemodResult, type HookRegistration } from '../shared/codemod.js';

/** The hook tasks are registered in. */
export const HOOK = 'registerTasks';

/** The task to register in the app. */
export interface TaskRegistration {
  /** The task class: `SendReportTask`. */
  className: string;
  /** Its module relative to the app file, without extension: `./tasks/send_report`. */
  modulePath: string;
}

/** How a task is registered: `tasks.register(new X())` in `registerTasks(tasks)`. */
export function taskRegistration(task: TaskRegistration): HookRegistration {
  return {
    hook: HOOK,
    parameters: ['tasks'],
    kind: 'task',
    ...task,
    call: ([tasks]) => `${tasks}.register(new ${task.className}())`,
  };
}

/**
 * Adds `import { X } from './tasks/x.js'` after the last import and `tasks.register(new X())`
 * inside `registerTasks`, after the registrations already there, in the file's own style. Adds
 * only what is missing; see `addToHook`.
 *
 * @param source the text of the app file
 * @param file the file's path, for messages
 * @throws AppEditError (a CodemodError with the lines to paste when there is no single `registerTasks` it can edit)
 */
export function addTaskToApp(source: string, file: string, task: TaskRegistration): CodemodResult {
  return addToHook(source, file, taskRegistration(task));
}
