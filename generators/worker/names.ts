import { classNames, NameError } from '../shared/names.js';

/** The names derived from what the user typed after `loco-gen worker`. */
export interface WorkerNames {
  /** snake_case, used for the file names: `report_worker`. */
  fileName: string;
  /** The worker class, Loco's naming (UpperCamelCase of the name + `Worker`): `ReportWorkerWorker`. */
  className: string;
  /** The args interface: `ReportWorkerWorkerArgs`. */
  argsName: string;
}

/** Thrown for a name that cannot become a worker; the message says why. */
export const WorkerNameError = NameError;

/**
 * Checks a worker name and derives the file and class names. Accepts snake_case, camelCase,
 * UpperCamelCase and kebab-case spellings of an identifier (`report_worker`, `reportWorker`,
 * `ReportWorker`, `report-worker` all give `report_worker` / `ReportWorkerWorker`).
 *
 * @throws NameError saying what is wrong with the name and what a good one looks like
 */
export function workerNames(input: string): WorkerNames {
  const { fileName, className } = classNames(input, { what: 'worker', suffix: 'Worker', example: 'report_worker' });
  return { fileName, className, argsName: `${className}Args` };
}
