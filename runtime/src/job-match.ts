import assert, { AssertionError } from 'node:assert';
import type { EnqueuedJob, PerformedJob } from './job-journal.js';

/** What `assertEnqueued` / `assertPerformed` look for among the recorded jobs. */
export interface JobMatch<J extends EnqueuedJob> {
  verb: 'enqueued' | 'performed';
  /** The worker's job name. */
  name: string;
  /** The recorded jobs, of every worker (performed ones that failed never match). */
  jobs: J[];
  /** What the args must contain (`undefined`: any args). */
  args: unknown;
  /** How many matching jobs there must be (`undefined`: at least one). */
  count: number | undefined;
}

/**
 * The jobs of `match.name` whose args contain `match.args`, or an `AssertionError` saying what was
 * expected, listing what was recorded, with a diff against the closest job of that worker.
 */
export function matchJobs<J extends EnqueuedJob>(match: JobMatch<J>): J[] {
  const { verb, name, jobs, args, count } = match;
  if (count !== undefined && (!Number.isInteger(count) || count < 0)) {
    throw new RangeError(`count: expected a whole number of 0 or more, found ${String(count)}.`);
  }
  const ofWorker = jobs.filter((job) => job.name === name);
  // A performed job that threw is listed but never matches: it did not do its work.
  const found = ofWorker.filter((job) => !failed(job) && (args === undefined || contains(job.args, args)));
  if (count === undefined ? found.length > 0 : found.length === count) return found;

  const wanted = `${count === undefined ? 'a' : count === 1 ? 'exactly 1' : `exactly ${count}`} ${name} job${count !== undefined && count !== 1 ? 's' : ''} ${verb}`;
  const withArgs = args === undefined ? '' : ` with args containing ${show(args)}`;
  const lines = [`Expected ${wanted}${withArgs}; found ${found.length}.`];
  if (jobs.length === 0) {
    lines.push(`No job was ${verb}.`);
  } else {
    lines.push(`Jobs ${verb} (${jobs.length}):`);
    for (const job of jobs.slice(0, 20)) lines.push(`  ${job.name} ${show(job.args)}${outcome(job)}`);
    if (jobs.length > 20) lines.push(`  ... and ${jobs.length - 20} more`);
  }
  if (found.length === 0 && args !== undefined && ofWorker.length > 0) {
    const closest = ofWorker
      .map((job) => ({ job, score: agreement(job.args, args) }))
      .sort((a, b) => b.score - a.score)[0].job;
    lines.push(
      `The closest ${name} job, its args as the expectation names them:`,
      diff(project(closest.args, args), args),
    );
  }
  throw new AssertionError({ message: lines.join('\n'), actual: found.length, expected: count ?? 1, operator: verb });
}

/** Whether `actual` holds everything `expected` names: objects by their keys, recursively. */
export function contains(actual: unknown, expected: unknown): boolean {
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return false;
    return Object.keys(expected).every((key) => key in actual && contains(actual[key], expected[key]));
  }
  try {
    assert.deepStrictEqual(actual, expected);
    return true;
  } catch {
    return false;
  }
}

/** `actual` cut down to the keys `expected` names, so a diff shows only what was asked about. */
function project(actual: unknown, expected: unknown): unknown {
  if (!isPlainObject(expected) || !isPlainObject(actual)) return actual;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(expected)) {
    if (key in actual) out[key] = project(actual[key], expected[key]);
  }
  return out;
}

/** How many of the keys `expected` names `actual` gets right, to find the closest job. */
function agreement(actual: unknown, expected: unknown): number {
  if (!isPlainObject(expected) || !isPlainObject(actual)) return contains(actual, expected) ? 1 : 0;
  return Object.keys(expected).reduce(
    (sum, key) => sum + (key in actual ? agreement(actual[key], expected[key]) : 0),
    0,
  );
}

/** Node's deep-equality diff of the two values (`+ actual - expected`). */
function diff(actual: unknown, expected: unknown): string {
  try {
    assert.deepStrictEqual(actual, expected);
    return '(no difference)';
  } catch (error) {
    return (error as Error).message.split('\n').slice(1).join('\n').trim();
  }
}

function failed(job: EnqueuedJob): boolean {
  return (job as Partial<PerformedJob>).outcome === 'failed';
}

function outcome(job: EnqueuedJob): string {
  if (!failed(job)) return '';
  const { error } = job as PerformedJob;
  return ` (failed: ${error instanceof Error ? error.message : String(error)})`;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
