/**
 * The checks a job's options and args pass before anything is written, the same from every
 * entry point (`performLater`, `loco jobs enqueue`, `jobs import`), so every store holds what
 * any other would.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ArgsError } from './errors.js';

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
