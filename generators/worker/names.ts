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
export class WorkerNameError extends Error {
  override name = 'WorkerNameError';
}

/** Reserved words of TypeScript and JavaScript (strict mode included): not accepted as worker names. */
const RESERVED = new Set([
  'break',
  'case',
  'catch',
  'class',
  'const',
  'continue',
  'debugger',
  'default',
  'delete',
  'do',
  'else',
  'enum',
  'export',
  'extends',
  'false',
  'finally',
  'for',
  'function',
  'if',
  'import',
  'in',
  'instanceof',
  'new',
  'null',
  'return',
  'super',
  'switch',
  'this',
  'throw',
  'true',
  'try',
  'typeof',
  'var',
  'void',
  'while',
  'with',
  'implements',
  'interface',
  'let',
  'package',
  'private',
  'protected',
  'public',
  'static',
  'yield',
  'await',
  'async',
  'arguments',
  'eval',
  'undefined',
  'any',
  'boolean',
  'number',
  'string',
  'symbol',
  'type',
  'declare',
  'namespace',
  'module',
  'abstract',
  'readonly',
  'keyof',
  'never',
  'unknown',
  'object',
  'bigint',
  'constructor',
]);

/**
 * Checks a worker name and derives the file and class names. Accepts snake_case, camelCase,
 * UpperCamelCase and kebab-case spellings of an identifier (`report_worker`, `reportWorker`,
 * `ReportWorker`, `report-worker` all give `report_worker` / `ReportWorkerWorker`).
 *
 * @throws WorkerNameError saying what is wrong with the name and what a good one looks like
 */
export function workerNames(input: string): WorkerNames {
  const name = input.trim();
  const example = 'Use letters, digits and underscores, starting with a letter, such as report_worker.';
  const refuse = (reason: string): never => {
    throw new WorkerNameError(`Invalid worker name ${JSON.stringify(input)}: ${reason} ${example}`);
  };
  if (name === '') refuse('the name is empty.');
  if (/\s/.test(name)) refuse('it contains spaces.');
  if (/[/\\]|^\.|\.\./.test(name))
    refuse('it is a path; give a plain name, the files go to src/workers/ and tests/workers/.');
  if (/^[0-9]/.test(name)) refuse('it starts with a digit, which cannot start a TypeScript class name.');
  if (!/^[A-Za-z]/.test(name)) refuse(`it starts with '${name[0]}'.`);
  const bad = name.match(/[^A-Za-z0-9_-]/);
  if (bad) refuse(`'${bad[0]}' cannot appear in a file or class name.`);

  const words = splitWords(name);
  const fileName = words.join('_');
  if (RESERVED.has(name) || RESERVED.has(fileName)) refuse(`'${name}' is a reserved word in TypeScript.`);
  const className = `${words.map((word) => word[0].toUpperCase() + word.slice(1)).join('')}Worker`;
  return { fileName, className, argsName: `${className}Args` };
}

/** `reportWorker`, `ReportWorker`, `report_worker`, `report-worker`, `HTTPClient` -> lower-case words. */
function splitWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .split(/[_-]+/)
    .filter(Boolean)
    .map((word) => word.toLowerCase());
}
