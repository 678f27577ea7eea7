import { formatBytes } from './byte-size.js';
import { ArgsError } from './errors.js';

/** Deepest nesting of lists and objects in job args: deeper data could not be dumped and read back. */
export const MAX_ARGS_DEPTH = 100;
/** The default of `queue.max_args_bytes`: 1 MiB of JSON per job. */
export const DEFAULT_MAX_ARGS_BYTES = 1024 * 1024;

/**
 * Returns `args` as plain JSON data, or throws `ArgsError` naming the first value that cannot
 * round-trip through JSON (BigInt, functions, symbols, cycles, Dates, Maps, class instances,
 * NaN/Infinity, `undefined` in a list), args nested more than `MAX_ARGS_DEPTH` levels, or args
 * over `maxBytes` bytes as JSON (`queue.max_args_bytes`). Object properties that are `undefined`
 * are dropped, as JSON drops them.
 */
export function toJsonArgs(args: unknown, workerName: string, maxBytes = DEFAULT_MAX_ARGS_BYTES): unknown {
  const problem = findProblem(args, { parents: [], steps: [] });
  if (problem) {
    const advice = problem.startsWith(TOO_DEEP)
      ? 'Flatten them, or pass a reference to the data (an id, a URL, a file name) instead.'
      : 'Job args must survive JSON.stringify/JSON.parse unchanged; ' +
        'pass plain objects, arrays, strings, finite numbers, booleans and null.';
    throw new ArgsError(`${workerName}: cannot enqueue: ${problem}. ${advice} Nothing was enqueued.`);
  }
  const json = JSON.stringify(args) ?? 'null';
  const tooBig = argsSizeProblem(json, maxBytes);
  if (tooBig) {
    throw new ArgsError(
      `${workerName}: cannot enqueue: ${tooBig}. Pass a reference to the data (an id, a URL, a file name) ` +
        'instead of the data itself, or raise queue.max_args_bytes. Nothing was enqueued.',
    );
  }
  return JSON.parse(json);
}

/** Why args written as `json` are too big, or `undefined` when they fit in `maxBytes`. */
export function argsSizeProblem(json: string, maxBytes: number): string | undefined {
  // Every UTF-16 unit is at most 3 bytes in UTF-8: most args are measured without counting.
  if (json.length * 3 <= maxBytes) return undefined;
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes <= maxBytes) return undefined;
  return `the args are ${formatBytes(bytes)} as JSON, over the limit of ${formatBytes(maxBytes)} (queue.max_args_bytes)`;
}

const TOO_DEEP = `the args are nested more than ${MAX_ARGS_DEPTH} levels deep`;

/**
 * The way down to the value being checked: the lists and objects above it (a value met again
 * among them is a cycle) and the key or index taken in each. Written into a message only when
 * there is a problem to report.
 */
interface Path {
  parents: object[];
  steps: Array<string | number>;
}

/** `args.a.b[3]`, cut short when keys make it long. */
function shown(path: Path): string {
  let at = 'args';
  for (const step of path.steps) at += typeof step === 'number' ? `[${step}]` : `.${step}`;
  return at.length > 120 ? `${at.slice(0, 117)}...` : at;
}

function findProblem(value: unknown, path: Path): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${shown(path)} is ${value}, which JSON turns into null`;
    case 'bigint':
      return `${shown(path)} is a BigInt (${value}n); pass it as a string`;
    case 'function':
      return `${shown(path)} is a function`;
    case 'symbol':
      return `${shown(path)} is a symbol`;
    case 'undefined':
      return path.steps.length === 0 ? undefined : `${shown(path)} is undefined, which JSON turns into null`;
  }
  if (value === null) return undefined;
  const object = value as object;
  if (path.parents.includes(object)) return `${shown(path)} refers back to itself (a cycle)`;
  if (path.parents.length >= MAX_ARGS_DEPTH) {
    return `${TOO_DEEP} (at ${shown(path)})`;
  }
  if (object instanceof Date) return `${shown(path)} is a Date, which comes back as a string; pass date.toISOString()`;
  if (Array.isArray(object)) {
    path.parents.push(object);
    for (let i = 0; i < object.length; i++) {
      path.steps.push(i);
      const problem = findProblem(object[i], path);
      if (problem) return problem;
      path.steps.pop();
    }
    path.parents.pop();
    return undefined;
  }
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) {
    const kind = (proto?.constructor?.name as string | undefined) ?? 'object';
    return `${shown(path)} is ${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind}, not a plain object`;
  }
  path.parents.push(object);
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    const item = (object as Record<string, unknown>)[key];
    if (item === undefined) continue;
    path.steps.push(key);
    const problem = findProblem(item, path);
    if (problem) return problem;
    path.steps.pop();
  }
  path.parents.pop();
  return undefined;
}
