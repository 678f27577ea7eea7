import { ArgsError } from './errors.js';

/**
 * Returns `args` as plain JSON data, or throws `ArgsError` naming the first value that cannot
 * round-trip through JSON (BigInt, functions, symbols, cycles, Dates, Maps, class instances,
 * NaN/Infinity, `undefined` in a list). Object properties that are `undefined` are dropped, as
 * JSON drops them.
 */
export function toJsonArgs(args: unknown, workerName: string): unknown {
  const seen = new Set<object>();
  const problem = findProblem(args, 'args', seen);
  if (problem) {
    throw new ArgsError(
      `${workerName}: cannot enqueue: ${problem}. Job args must survive JSON.stringify/JSON.parse unchanged; ` +
        'pass plain objects, arrays, strings, finite numbers, booleans and null. Nothing was enqueued.',
    );
  }
  return args === undefined ? null : JSON.parse(JSON.stringify(args));
}

function findProblem(value: unknown, at: string, seen: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${at} is ${value}, which JSON turns into null`;
    case 'bigint':
      return `${at} is a BigInt (${value}n); pass it as a string`;
    case 'function':
      return `${at} is a function`;
    case 'symbol':
      return `${at} is a symbol`;
    case 'undefined':
      return at === 'args' ? undefined : `${at} is undefined, which JSON turns into null`;
  }
  if (value === null) return undefined;
  const object = value as object;
  if (seen.has(object)) return `${at} refers back to itself (a cycle)`;
  if (object instanceof Date) return `${at} is a Date, which comes back as a string; pass date.toISOString()`;
  if (Array.isArray(object)) {
    seen.add(object);
    for (let i = 0; i < object.length; i++) {
      const problem = findProblem(object[i], `${at}[${i}]`, seen);
      if (problem) return problem;
    }
    seen.delete(object);
    return undefined;
  }
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) {
    const kind = (proto?.constructor?.name as string | undefined) ?? 'object';
    return `${at} is a ${kind}, not a plain object`;
  }
  seen.add(object);
  for (const [key, item] of Object.entries(object)) {
    if (item === undefined) continue;
    const problem = findProblem(item, `${at}.${key}`, seen);
    if (problem) return problem;
  }
  seen.delete(object);
  return undefined;
}
