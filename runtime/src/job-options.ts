/**
 * The checks a job's options and args pass before anything is written, the same from every
 * entry point (`performLater`, `loco jobs enqueue`, `jobs import`), so every store holds what
 * any other would.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ArgsError, type LocoError } from './errors.js';

/** Longest unique key, in characters. */
export const MAX_KEY_LENGTH = 255;
/** Priorities are whole numbers in this range; higher is claimed first. */
export const MIN_PRIORITY = -32768;
export const MAX_PRIORITY = 32767;

type ErrorClass = new (message: string) => LocoError;

/** A unique key as given, or an error naming what was found and what is allowed. */
export function checkKey(key: unknown, what: string, ErrorType: ErrorClass = ArgsError): string {
  if (typeof key !== 'string' || key === '' || key.length > MAX_KEY_LENGTH || key.includes('\0')) {
    const found =
      typeof key === 'string' ? `${key.length} characters${key.includes('\0') ? ' with a NUL' : ''}` : typeof key;
    throw new ErrorType(
      `${what}: a key is a non-empty string of at most ${MAX_KEY_LENGTH} characters without NUL, found ${found}. Nothing was enqueued.`,
    );
  }
  return key;
}

/** A priority as given, or an error naming what was found and what is allowed. */
export function checkPriority(value: unknown, what: string, ErrorType: ErrorClass = ArgsError): number {
  if (!Number.isInteger(value) || (value as number) < MIN_PRIORITY || (value as number) > MAX_PRIORITY) {
    throw new ErrorType(
      `${what}: a priority is a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY} (higher runs first), found ${JSON.stringify(value) ?? String(value)}.`,
    );
  }
  return value as number;
}

/**
 * Runs a Standard Schema on args. Resolves with the schema's output; rejects with an `ArgsError`
 * listing each issue as `path: message`.
 */
export async function validateArgs(schema: StandardSchemaV1, args: unknown, workerName: string): Promise<unknown> {
  let result = schema['~standard'].validate(args);
  if (result instanceof Promise) result = await result;
  if (result.issues) {
    throw new ArgsError(`${workerName}: the args do not match its argsSchema: ${formatIssues(result.issues)}.`);
  }
  return result.value;
}

/** `userGuid: Required; tags[1]: Expected string` */
export function formatIssues(issues: readonly StandardSchemaV1.Issue[]): string {
  return issues
    .map((issue) => {
      const path = (issue.path ?? [])
        .map((segment) => (typeof segment === 'object' ? segment.key : segment))
        .reduce<string>(
          (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)),
          '',
        );
      return `${path || '(args)'}: ${issue.message}`;
    })
    .join('; ');
}
