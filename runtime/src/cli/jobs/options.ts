/**
 * Parsers for the options of `loco jobs ...`, for commander's `argParser`. Each throws
 * `InvalidArgumentError` (commander prints it with the option's name and exits 1).
 */
import { InvalidArgumentError } from 'commander';
import { BYTE_SIZE_HINT, parseByteSize } from '../../byte-size.js';
import { parseDuration } from '../../duration.js';
import { MAX_PRIORITY, MIN_PRIORITY } from '../../job-limits.js';
import { JOB_STATUSES, type JobStatus } from '../../queue/backend.js';

/** `failed,cancelled` -> statuses, each checked against the five a job can have. */
export function parseStatuses(value: string): JobStatus[] {
  const statuses = splitList(value);
  if (statuses.length === 0) {
    throw new InvalidArgumentError(`Expected one or more of ${JOB_STATUSES.join(', ')}, separated by commas.`);
  }
  for (const status of statuses) {
    if (!(JOB_STATUSES as readonly string[]).includes(status)) {
      throw new InvalidArgumentError(`'${status}' is not a job status; use ${JOB_STATUSES.join(', ')}.`);
    }
  }
  return [...new Set(statuses)] as JobStatus[];
}

/** `email,report` -> tags; an empty value means no tags. */
export function parseTags(value: string): string[] {
  return [...new Set(splitList(value))];
}

/** A number >= 0, fractions allowed (`--max-age 0.5` is half a day). */
export function parseAge(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) {
    throw new InvalidArgumentError('Expected a number >= 0.');
  }
  return number;
}

/** A whole number >= 1. */
export function parseLimit(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || number < 1) {
    throw new InvalidArgumentError('Expected a whole number >= 1.');
  }
  return number;
}

/**
 * Job args read from `--args`, in a box: commander turns a parser's `null` into `''`, and `null`
 * must reach the check that refuses args that are not a JSON object.
 */
export interface JsonArgs {
  value: unknown;
}

/** Job args as JSON text -> the value, boxed. */
export function parseJsonArgs(value: string): JsonArgs {
  try {
    return { value: JSON.parse(value) };
  } catch (err) {
    throw new InvalidArgumentError(
      `Expected JSON, such as '{"userGuid":"foo"}' (quote it for your shell): ${(err as Error).message}.`,
    );
  }
}

/** A priority: a whole number in the allowed range. */
export function parsePriority(value: string): number {
  const number = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || number < MIN_PRIORITY || number > MAX_PRIORITY) {
    throw new InvalidArgumentError(
      `Expected a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY} (higher runs first).`,
    );
  }
  return number;
}

/** `500ms`, `30s`, `5m`, `2h`, `1d` or milliseconds -> ms. */
export function parseDelay(value: string): number {
  try {
    return parseDuration(/^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value, 'delay');
  } catch {
    throw new InvalidArgumentError('Expected a duration such as 500ms, 30s, 5m, 2h, 1d, or a number of milliseconds.');
  }
}

/** `64MiB`, `1GB` or bytes -> bytes, at least 1. */
export function parseSize(value: string): number {
  const bytes = parseByteSize(/^\d+$/.test(value.trim()) ? Number(value) : value);
  if (bytes === undefined || bytes < 1) throw new InvalidArgumentError(`Expected ${BYTE_SIZE_HINT}.`);
  return bytes;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}
