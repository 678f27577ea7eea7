import { classNames } from '../shared/names.js';

/** The names derived from what the user typed after `loco-gen task`. */
export interface TaskNames {
  /** snake_case, used for the file names: `send_report`. */
  fileName: string;
  /** The task class (UpperCamelCase of the name + `Task`): `SendReportTask`. */
  className: string;
  /** The name `loco task` runs it by, snake_case as Loco's: `send_report`. */
  taskName: string;
}

/**
 * Checks a task name and derives the others. Accepts snake_case, camelCase, UpperCamelCase and
 * kebab-case spellings (`send_report`, `sendReport`, `SendReport`, `send-report` all give
 * `send_report` / `SendReportTask`, run by `loco task send_report`).
 *
 * @throws NameError saying what is wrong with the name and what a good one looks like
 */
export function taskNames(input: string): TaskNames {
  const { fileName, className } = classNames(input, { what: 'task', suffix: 'Task', example: 'send_report' });
  return { fileName, className, taskName: fileName };
}
