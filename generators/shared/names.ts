/** The names derived from what the user typed after `loco-gen worker` or `loco-gen task`. */
export interface ClassNames {
  /** snake_case, used for the file names: `report_worker`. */
  fileName: string;
  /** The class: UpperCamelCase of the name, then the suffix (`ReportWorkerWorker`, `SendReportTask`). */
  className: string;
}

/** What a generator makes of a name: how it calls it in messages, and the class suffix. */
export interface NameKind {
  /** `worker` */
  what: string;
  /** `Worker`: `report_worker` -> `ReportWorkerWorker`. */
  suffix: string;
  /** A good name, for messages: `report_worker`. */
  example: string;
}

/** Thrown for a name that cannot become a file and a class; the message says why. */
export class NameError extends Error {
  override name = 'NameError';
}

/**
 * The longest name accepted, in characters. File systems allow 255 bytes per file name, and the
 * test file adds `.test.ts`; 64 keeps every name readable in an import line.
 */
export const MAX_NAME_LENGTH = 64;

/** Reserved words of TypeScript and JavaScript (strict mode included): not accepted as names. */
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
 * Checks a name and derives the file and class names. Accepts snake_case, camelCase,
 * UpperCamelCase and kebab-case spellings of an identifier (`report_worker`, `reportWorker`,
 * `ReportWorker`, `report-worker` all give `report_worker` / `ReportWorker` + suffix).
 *
 * @throws NameError saying what is wrong with the name and what a good one looks like
 */
export function classNames(input: string, kind: NameKind): ClassNames {
  const name = input.trim();
  const example = `Use letters, digits and underscores, starting with a letter, such as ${kind.example}.`;
  const shown = name.length > MAX_NAME_LENGTH ? `${name.slice(0, 20)}...` : input;
  const refuse = (reason: string): never => {
    throw new NameError(`Invalid ${kind.what} name ${JSON.stringify(shown)}: ${reason} ${example}`);
  };
  if (name === '') refuse('the name is empty.');
  if (name.length > MAX_NAME_LENGTH) {
    refuse(`it is ${name.length} characters long; a name has at most ${MAX_NAME_LENGTH}.`);
  }
  if (/\s/.test(name)) refuse('it contains spaces.');
  if (/[/\\]|^\.|\.\./.test(name)) {
    refuse(`it is a path; give a plain name, the files go to src/${kind.what}s/ and tests/${kind.what}s/.`);
  }
  if (/^[0-9]/.test(name)) refuse('it starts with a digit, which cannot start a TypeScript class name.');
  if (!/^[A-Za-z]/.test(name)) refuse(`it starts with '${name[0]}'.`);
  const bad = name.match(/[^A-Za-z0-9_-]/);
  if (bad) refuse(`'${bad[0]}' cannot appear in a file or class name.`);

  const words = splitWords(name);
  const fileName = words.join('_');
  if (RESERVED.has(name) || RESERVED.has(fileName)) refuse(`'${name}' is a reserved word in TypeScript.`);
  const className = `${words.map((word) => word[0].toUpperCase() + word.slice(1)).join('')}${kind.suffix}`;
  return { fileName, className };
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
