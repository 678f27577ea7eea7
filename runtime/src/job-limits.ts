/**
 * The bounds of a job's fields, stated once for every way a job is made (`performLater`,
 * `loco jobs enqueue`, `loco jobs import`), so that whatever one store accepts every store holds,
 * and every job that is accepted can be listed, dumped and imported again:
 *
 * - times fit a JavaScript `Date` and the dump format (RFC 3339, a four-digit year), and are whole
 *   milliseconds (a Postgres `bigint`);
 * - attempts fit a Postgres `integer`;
 * - names, queues and tags are text every store keeps as it is: no NUL (Postgres `text` cannot hold
 *   one) and no lone UTF-16 surrogate (not Unicode: Postgres refuses it, drivers replace it).
 */
import type { NewJob } from './queue/backend.js';

/** The earliest `run_at`: 0000-01-01T00:00:00.000Z. */
export const MIN_RUN_AT = Date.parse('0000-01-01T00:00:00.000Z');
/** The latest `run_at`: 9999-12-31T23:59:59.999Z, the last time a dump can write. */
export const MAX_RUN_AT = Date.parse('9999-12-31T23:59:59.999Z');
/** The longest `interval`: 36500 days (100 years). */
export const MAX_INTERVAL_MS = 36_500 * 86_400_000;
/** The most attempts a job may have: the largest Postgres `integer`. */
export const MAX_ATTEMPTS = 2_147_483_647;
/** The most tags a job may have. */
export const MAX_TAGS = 100;
/** The longest unique key or concurrency key, in characters. */
export const MAX_KEY_LENGTH = 255;
/** Priorities are whole numbers in this range; higher is claimed first. */
export const MIN_PRIORITY = -32768;
export const MAX_PRIORITY = 32767;
/** The longest worker name, queue name or tag, in characters. */
export const MAX_NAME_LENGTH = 255;

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what is looked for.
const NUL = /\u0000/;
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * `text` as every store keeps it alike, for text the runtime writes itself (a failed attempt's
 * error): NUL written as `\0`, a lone surrogate as U+FFFD. Refusing it is no option there: the job ran.
 */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '\\0').replace(/\p{Surrogate}/gu, '\ufffd');
}

/** Why `ms` cannot be a job's `run_at`, or `undefined` when it can. */
export function runAtProblem(ms: number): string | undefined {
  if (!Number.isFinite(ms)) return `expected a time, found ${ms}`;
  if (ms > MAX_RUN_AT) {
    return (
      `${ms} ms since the epoch is after ${new Date(MAX_RUN_AT).toISOString()}, the latest time the stores and ` +
      'the dump format hold; use a shorter delay or an earlier runAt'
    );
  }
  if (ms < MIN_RUN_AT) {
    return `${ms} ms since the epoch is before ${new Date(MIN_RUN_AT).toISOString()}, the earliest time a dump can write`;
  }
  return undefined;
}

/** Why `ms` cannot be a job's `interval`, or `undefined` when it can. */
export function intervalProblem(ms: number): string | undefined {
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_INTERVAL_MS) {
    return `expected more than 0 and at most ${MAX_INTERVAL_MS} ms (36500 days), found ${describe(ms)}`;
  }
  return undefined;
}

/** Why `value` cannot be a job's `max_attempts`, or `undefined` when it can. */
export function maxAttemptsProblem(value: unknown): string | undefined {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_ATTEMPTS) {
    return `expected a whole number from 1 to ${MAX_ATTEMPTS} (the largest a Postgres integer holds), found ${describe(value)}`;
  }
  return undefined;
}

/** Why `value` cannot be a worker name, queue name or tag, or `undefined` when it can. */
export function nameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return `expected a non-empty string, found ${describe(value)}`;
  if (value.length > MAX_NAME_LENGTH) {
    return `expected at most ${MAX_NAME_LENGTH} characters, found ${value.length}`;
  }
  if (NUL.test(value))
    return `${JSON.stringify(value)} contains a NUL character (\\u0000), which Postgres cannot store`;
  if (LONE_SURROGATE.test(value)) {
    return `${JSON.stringify(value)} contains a lone UTF-16 surrogate, which is not Unicode text`;
  }
  return undefined;
}

/** Why `tags` cannot be a job's tags, or `undefined` when they can. */
export function tagsProblem(tags: unknown): string | undefined {
  if (!Array.isArray(tags)) return `expected a list of tags, found ${describe(tags)}`;
  if (tags.length > MAX_TAGS) return `expected at most ${MAX_TAGS} tags, found ${tags.length}`;
  for (const [i, tag] of tags.entries()) {
    const problem = nameProblem(tag);
    if (problem) return `tag ${i + 1}: ${problem}`;
  }
  return undefined;
}

/** Why `key` cannot be a unique key or concurrency key, or `undefined` when it can. */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key === '') return `expected a non-empty string, found ${describe(key)}`;
  if (key.length > MAX_KEY_LENGTH) return `expected at most ${MAX_KEY_LENGTH} characters, found ${key.length}`;
  if (NUL.test(key)) return `${JSON.stringify(key)} contains a NUL character (\\u0000), which Postgres cannot store`;
  return undefined;
}

/** Why `value` cannot be a priority, or `undefined` when it can. */
export function priorityProblem(value: unknown): string | undefined {
  if (!Number.isInteger(value) || (value as number) < MIN_PRIORITY || (value as number) > MAX_PRIORITY) {
    return `expected a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY} (higher runs first), found ${describe(value)}`;
  }
  return undefined;
}

/** Why `queue` cannot be a job's named queue (`null` is the default queue), or `undefined` when it can. */
export function queueProblem(queue: unknown): string | undefined {
  return queue === null ? undefined : nameProblem(queue);
}

/**
 * A new job with its times in whole milliseconds (rounded up: never earlier than asked), checked
 * against every bound above. Throws a `RangeError` naming the worker, the field, what was found
 * and what is allowed, before anything is written.
 */
export function checkedJob(job: NewJob): NewJob {
  const checked: NewJob = {
    ...job,
    run_at: Math.ceil(job.run_at),
    interval: job.interval === null ? null : Math.ceil(job.interval),
  };
  for (const [field, check] of JOB_CHECKS) {
    const problem = check(checked);
    if (problem !== undefined) {
      throw new RangeError(`${describeName(job.name)}: cannot enqueue: ${field}: ${problem}. Nothing was enqueued.`);
    }
  }
  return checked;
}

/** Each field's check, in the order problems are reported. */
const JOB_CHECKS: ReadonlyArray<readonly [string, (job: NewJob) => string | undefined]> = [
  ['name', (job) => nameProblem(job.name)],
  ['run_at', (job) => runAtProblem(job.run_at)],
  ['interval', (job) => (job.interval === null ? undefined : intervalProblem(job.interval))],
  ['tags', (job) => tagsProblem(job.tags)],
  ['queue', (job) => queueProblem(job.queue)],
  ['priority', (job) => priorityProblem(job.priority)],
  ['key', (job) => (job.key === null ? undefined : keyProblem(job.key))],
  ['concurrencyKey(args)', (job) => (job.concurrency_key === null ? undefined : keyProblem(job.concurrency_key))],
  ['max_attempts', (job) => maxAttemptsProblem(job.max_attempts)],
];

function describeName(name: unknown): string {
  return typeof name === 'string' && nameProblem(name) === undefined ? name : 'a job';
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (Array.isArray(value)) return 'a list';
  if (value === null || value === undefined) return 'nothing';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${String(value)}`;
}
