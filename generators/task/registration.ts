import type { HookRegistration } from '../shared/codemod.js';

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
