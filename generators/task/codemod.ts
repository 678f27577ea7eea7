import { addToHook, type CodemodResult } from '../shared/codemod.js';
import { type TaskRegistration, taskRegistration } from './registration.js';

export { HOOK, type TaskRegistration, taskRegistration } from './registration.js';

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
