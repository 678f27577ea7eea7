/**
 * The YAML dump format of `loco jobs dump` / `purge --dump` / `import`, interchangeable with Loco's.
 *
 * Loco (`src/bgworker/sqlt.rs`, `pg.rs`) writes its `Job` struct with serde_yaml: a list of
 * mappings with `id`, `name`, `task_data` (the args), `status` (lowercase), `run_at`,
 * `interval` (ms or null), `created_at`, `updated_at` (RFC 3339 UTC) and `tags` (a list or null);
 * Loco 1.0 adds `priority`. Dumps written here have Loco's fields first, then this queue's own
 * (`queue`, `priority`, `key`, `attempts`, `max_attempts`, `last_error`, `traceparent`), which an
 * import may lack.
 */
import { Document, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import { argsSizeProblem, DEFAULT_MAX_ARGS_BYTES, MAX_ARGS_DEPTH } from '../../args.js';
import { LocoError } from '../../errors.js';
import {
  intervalProblem,
  keyProblem,
  maxAttemptsProblem,
  priorityProblem,
  queueProblem,
  tagsProblem,
} from '../../job-limits.js';
import { JOB_STATUSES, type JobRecord, type JobStatus } from '../../queue/backend.js';
import { plural } from './text.js';

/** The fields Loco's dump has, in the order written here. */
export const LOCO_FIELDS = [
  'id',
  'name',
  'task_data',
  'status',
  'run_at',
  'interval',
  'tags',
  'created_at',
  'updated_at',
] as const;
/** This queue's fields, written after Loco's; optional on import. */
export const EXTRA_FIELDS = [
  'queue',
  'priority',
  'key',
  'attempts',
  'max_attempts',
  'last_error',
  'traceparent',
] as const;
const KNOWN_FIELDS: readonly string[] = [...LOCO_FIELDS, ...EXTRA_FIELDS];

/** One job of a dump, as read and checked by `parseDump`. Absent fields are `undefined`. */
export interface DumpEntry {
  /** 1-based position in the list. */
  index: number;
  /** Line of the entry in the file (1-based). */
  line: number;
  id?: string;
  name: string;
  task_data: unknown;
  status?: JobStatus;
  /** ms since the epoch */
  run_at?: number;
  interval?: number | null;
  tags?: string[] | null;
  /** ms since the epoch */
  created_at?: number;
  /** ms since the epoch */
  updated_at?: number;
  queue?: string | null;
  priority?: number;
  key?: string | null;
  attempts?: number;
  max_attempts?: number;
  last_error?: string | null;
  /** The W3C trace context of the span that enqueued it. */
  traceparent?: string | null;
}

/** Writes jobs as a dump: a YAML list with Loco's field names, times as RFC 3339 UTC. */
export function formatDump(jobs: JobRecord[]): string {
  const entries = jobs.map((job) => ({
    id: job.id,
    name: job.name,
    task_data: job.task_data,
    status: job.status,
    run_at: rfc3339(job.run_at),
    interval: job.interval,
    tags: job.tags,
    created_at: rfc3339(job.created_at),
    updated_at: rfc3339(job.updated_at),
    queue: job.queue,
    priority: job.priority,
    key: job.key,
    attempts: job.attempts,
    max_attempts: job.max_attempts,
    last_error: job.last_error,
    traceparent: job.traceparent,
  }));
  // No anchors/aliases and no folded lines: the file stays easy to edit by hand and to read with serde_yaml.
  const doc = new Document(entries, { aliasDuplicateObjects: false });
  // yaml writes a string of only spaces and line breaks (" \n") as a block scalar that reads
  // back without its spaces; such strings are written double-quoted, which reads back as written.
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === 'string' && node.value.includes('\n') && node.value.trim() === '') {
        node.type = 'QUOTE_DOUBLE';
      }
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/**
 * Reads a dump and checks every entry: a YAML list of mappings, known fields only, each of the
 * right type, and a `name` among `workerNames`. Throws one `LocoError` that lists every problem
 * (entry number, line, id and name) when anything is wrong, so that nothing is imported from a
 * file that is partly wrong.
 */
export function parseDump(
  text: string,
  file: string,
  workerNames: readonly string[],
  limits: { maxArgsBytes?: number } = {},
): DumpEntry[] {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const [yamlError] = [...document.errors, ...document.warnings];
  if (yamlError) {
    const message = yamlError.message.split('\n')[0].replace(/[:.]$/, '');
    const what = yamlError.code === 'RESOURCE_EXHAUSTION' ? 'it is nested too deeply to read' : 'it is not valid YAML';
    throw new LocoError(`Cannot import ${file}: ${what}: ${message}. Nothing was imported.`);
  }
  if (document.contents === null) {
    throw new LocoError(
      `Cannot import ${file}: the file is empty; a dump is a YAML list of jobs, as written by loco jobs dump. Nothing was imported.`,
    );
  }
  let data: unknown;
  try {
    data = document.toJS();
  } catch (err) {
    // yaml refuses documents whose aliases expand too far (a "billion laughs" file); a document
    // nested thousands of levels deep overflows the stack.
    const why = err instanceof RangeError ? `it is nested too deeply to read (${err.message})` : (err as Error).message;
    throw new LocoError(`Cannot import ${file}: ${why}. Nothing was imported.`, { cause: err });
  }
  const seq = document.contents;
  if (!isSeq(seq)) {
    throw new LocoError(
      `Cannot import ${file}: expected a YAML list of jobs (as written by loco jobs dump), found ${describe(data)}. Nothing was imported.`,
    );
  }
  const values = data as unknown[];
  if (values.length === 0) {
    throw new LocoError(`Cannot import ${file}: the list of jobs is empty, so there is nothing to import.`);
  }

  const entries: DumpEntry[] = [];
  const problems: string[] = [];
  let unregistered = false;
  values.forEach((value, i) => {
    const node = seq.items[i] as { range?: [number, number, number] } | null;
    const line = node?.range ? lineCounter.linePos(node.range[0]).line : 0;
    const checked = checkEntry(value, i + 1, line, workerNames, limits.maxArgsBytes ?? DEFAULT_MAX_ARGS_BYTES);
    if (checked.problems.length > 0) {
      problems.push(`  ${entryLabel(value, i + 1, line)}: ${checked.problems.join('; ')}.`);
      unregistered ||= checked.unregistered;
    } else {
      entries.push(checked.entry!);
    }
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, 20);
    if (problems.length > shown.length) shown.push(`  ... and ${problems.length - shown.length} more.`);
    const names = workerNames.length ? workerNames.join(', ') : 'none';
    throw new LocoError(
      [
        `Cannot import ${file}: ${problems.length} of ${plural(values.length, 'entry')} ${problems.length === 1 ? 'has' : 'have'} problems, so nothing was imported:`,
        ...shown,
        ...(unregistered ? [`Registered workers: ${names} (see connectWorkers in src/app.ts).`] : []),
        'Fix or remove these entries and run the import again.',
      ].join('\n'),
    );
  }
  return entries;
}

function checkEntry(
  value: unknown,
  index: number,
  line: number,
  workerNames: readonly string[],
  maxArgsBytes: number,
): { entry?: DumpEntry; problems: string[]; unregistered: boolean } {
  if (!isRecord(value))
    return {
      problems: [`expected a mapping of job fields (name, task_data, ...), found ${describe(value)}`],
      unregistered: false,
    };
  const problems: string[] = [];
  let unregistered = false;
  const entry: Partial<DumpEntry> = { index, line };
  const expect = (field: string, expected: string, found: unknown) =>
    problems.push(`${field}: expected ${expected}, found ${describe(found)}`);

  for (const field of Object.keys(value)) {
    if (!KNOWN_FIELDS.includes(field))
      problems.push(`unknown field '${field}' (the fields of a job are ${KNOWN_FIELDS.join(', ')})`);
  }
  for (const required of ['name', 'task_data']) {
    if (!(required in value)) problems.push(`${required} is missing`);
  }

  for (const [field, raw] of Object.entries(value)) {
    switch (field) {
      case 'id':
        if (typeof raw === 'string' && raw !== '') entry.id = raw;
        else expect(field, 'a string', raw);
        break;
      case 'name':
        if (typeof raw !== 'string' || raw === '') expect(field, 'a worker name', raw);
        else if (!workerNames.includes(raw)) {
          problems.push(`no worker is registered under the name '${raw}'`);
          unregistered = true;
        } else entry.name = raw;
        break;
      case 'task_data': {
        const problem = jsonProblem(raw, 'task_data', 0);
        const tooBig = problem ? undefined : argsSizeProblem(JSON.stringify(raw ?? null), maxArgsBytes);
        if (problem) problems.push(`${problem}; task_data must be JSON data`);
        else if (tooBig) problems.push(`task_data: ${tooBig}`);
        else entry.task_data = raw ?? null;
        break;
      }
      case 'status':
        if (typeof raw === 'string' && (JOB_STATUSES as readonly string[]).includes(raw))
          entry.status = raw as JobStatus;
        else expect(field, `one of ${JOB_STATUSES.join(', ')}`, raw);
        break;
      case 'run_at':
      case 'created_at':
      case 'updated_at': {
        const time = parseTime(raw);
        if (time === undefined) expect(field, 'an RFC 3339 time such as 2024-11-28T08:04:25.110485Z', raw);
        else entry[field] = time;
        break;
      }
      case 'interval':
        if (raw === null) entry.interval = null;
        else if (!Number.isSafeInteger(raw)) expect(field, 'a whole number of milliseconds > 0, or null', raw);
        else {
          const problem = intervalProblem(raw as number);
          if (problem) problems.push(`${field}: ${problem}`);
          else entry.interval = raw as number;
        }
        break;
      case 'tags': {
        const problem = raw === null ? undefined : tagsProblem(raw);
        if (problem) problems.push(`${field}: ${problem}`);
        else entry.tags = raw as string[] | null;
        break;
      }
      case 'queue': {
        const problem = queueProblem(raw);
        if (problem) problems.push(`${field}: ${problem}`);
        else entry.queue = raw as string | null;
        break;
      }
      case 'attempts':
        if (Number.isSafeInteger(raw) && (raw as number) >= 0) entry.attempts = raw as number;
        else expect(field, 'a whole number >= 0', raw);
        break;
      case 'max_attempts': {
        const problem = maxAttemptsProblem(raw);
        if (problem) problems.push(`${field}: ${problem}`);
        else entry.max_attempts = raw as number;
        break;
      }
      case 'last_error':
        if (raw === null || typeof raw === 'string') entry.last_error = raw as string | null;
        else expect(field, 'a string, or null', raw);
        break;
      case 'priority': {
        const problem = priorityProblem(raw);
        if (problem) problems.push(`${field}: ${problem}`);
        else entry.priority = raw as number;
        break;
      }
      case 'traceparent':
        if (raw === null || (typeof raw === 'string' && TRACEPARENT.test(raw)))
          entry.traceparent = raw as string | null;
        else expect(field, 'a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>), or null', raw);
        break;
      case 'key': {
        const problem = raw === null ? undefined : keyProblem(raw);
        if (problem) problems.push(`${field}: ${problem}, or null`);
        else entry.key = raw as string | null;
        break;
      }
    }
  }
  return problems.length > 0 ? { problems, unregistered } : { entry: entry as DumpEntry, problems, unregistered };
}

function entryLabel(value: unknown, index: number, line: number): string {
  const parts = [line > 0 ? `line ${line}` : ''];
  if (isRecord(value)) {
    if (typeof value.id === 'string' || typeof value.id === 'number') parts.push(`id ${value.id}`);
    if (typeof value.name === 'string') parts.push(`name ${value.name}`);
  }
  const details = parts.filter(Boolean).join(', ');
  return `entry ${index}${details ? ` (${details})` : ''}`;
}

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** RFC 3339 text (any precision, any offset) -> ms since the epoch; `undefined` when it is not one. */
export function parseTime(value: unknown): number | undefined {
  // A `%YAML 1.1` document turns unquoted times into Dates.
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.getTime() : undefined;
  if (typeof value !== 'string') return undefined;
  const match = RFC3339.exec(value.trim());
  if (!match) return undefined;
  const [, date, time, fraction = '', zone] = match;
  const ms = Date.parse(`${date}T${time}${fraction.slice(0, 4)}${zone.toUpperCase()}`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** ms since the epoch -> `2024-11-28T08:04:25.110Z`. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** Describes why a parsed YAML value is not JSON data (or is nested too deeply), or `undefined` when it is. */
function jsonProblem(value: unknown, at: string, depth: number): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number')
    return Number.isFinite(value) ? undefined : `${at} is ${value}, which JSON cannot hold`;
  if ((Array.isArray(value) || isRecord(value)) && depth >= MAX_ARGS_DEPTH) {
    return `task_data is nested more than ${MAX_ARGS_DEPTH} levels deep`;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = jsonProblem(value[i], `${at}[${i}]`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      const problem = jsonProblem(item, `${at}.${key}`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  const kind = (value as object | undefined)?.constructor?.name ?? typeof value;
  return `${at} is a ${kind} (from a YAML tag)`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (isRecord(value)) return 'a mapping';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return `a ${(value as object).constructor?.name ?? typeof value}`;
}
