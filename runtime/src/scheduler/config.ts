/**
 * The scheduler's jobs, read exactly as Loco reads them: a `scheduler:` section in
 * `config/<env>.yaml`, and/or a dedicated file (`config/scheduler.yaml`, chosen by
 * `loco scheduler --config` or `SCHEDULER_CONFIG`) whose top level is that section's body.
 * Every problem is a `ConfigError` naming the file and the key (`scheduler.jobs.backup.schedule`).
 *
 * Kept out of `config/schema.ts` because the same reader serves the dedicated file, and because
 * the names a job runs (tasks, workers) can only be checked against the booted app
 * (`checkJobTargets`).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { toJsonArgs } from '../args.js';
import { isRecord, suggest } from '../config/schema.js';
import { parseDuration } from '../duration.js';
import { ArgsError, ConfigError, describeValue, LocoError } from '../errors.js';
import { parseSchedule, SCHEDULE_EXAMPLES, type Schedule, ScheduleError } from './schedule.js';

/** Where a job's output goes: `stdout` prints each run and its output, `silent` only failures. */
export const SCHEDULER_OUTPUTS = ['stdout', 'silent'] as const;
export type SchedulerOutput = (typeof SCHEDULER_OUTPUTS)[number];

/** What a job does at each of its times. */
export type JobAction =
  /** `shell: true`: a command run by the system shell in the app's root folder. */
  | { kind: 'shell'; command: string }
  /** A registered task, with Loco's `key:value` args after its name. */
  | { kind: 'task'; task: string; args: string[] }
  /** Beyond Loco: enqueue a job of a registered worker, so it gets the queue's retries and workers. */
  | { kind: 'worker'; worker: string; args: unknown };

/** One validated scheduler job. */
export interface ScheduledJob {
  /** Its key under `jobs:`; also the name its ticks are claimed under in the store. */
  name: string;
  /** The file it is defined in, and its key there (`scheduler.jobs.backup` or `jobs.backup`). */
  file: string;
  key: string;
  action: JobAction;
  schedule: Schedule;
  /** Also run once when the scheduler starts, in each scheduler process, as in Loco. (Default: false) */
  runOnStart: boolean;
  /** For `loco scheduler --tag`. (Default: none) */
  tags: string[];
  /** (Default: the section's `output`, which defaults to `stdout`) */
  output: SchedulerOutput;
  /** How far back a time missed while no scheduler ran is still run at start, in ms; 0 for none. (Default: 0) */
  catchUpMs: number;
  /** Let a run start while the previous one still runs. (Default: false: that time is skipped) */
  allowOverlap: boolean;
}

/** The keys of a job entry. Loco's first; the rest are this runtime's. */
const JOB_KEYS = [
  'run',
  'shell',
  'schedule',
  'run_on_start',
  'tags',
  'output',
  'worker',
  'args',
  'timezone',
  'catch_up',
  'allow_overlap',
];
const SECTION_KEYS = ['output', 'jobs'];
/** The longest `catch_up`: tick claims are kept that long, so it bounds what the store holds. */
const MAX_CATCH_UP_MS = 31 * 86_400_000;

type Raw = Record<string, unknown>;

/**
 * Reads the body of a scheduler section (`output:` and `jobs:`) found at `key` in `file`
 * (`scheduler` in a config file, `''` at the top of a dedicated file). Nothing, or null, is no jobs.
 */
export function readSchedulerSection(raw: unknown, file: string, key: string, now = Date.now()): ScheduledJob[] {
  if (raw === undefined || raw === null) return [];
  const at = (sub: string) => (key ? `${key}.${sub}` : sub);
  const section = mapping(raw, file, key, 'the scheduler settings (output: and jobs:)');
  unknownKeys(section, SECTION_KEYS, file, key);
  const output = oneOf(section.output, SCHEDULER_OUTPUTS, 'stdout', file, at('output'));
  if (section.jobs === undefined || section.jobs === null) {
    throw new ConfigError(
      file,
      at('jobs'),
      'is missing: add jobs: with one entry per job (see npx loco-gen scheduler).',
    );
  }
  const jobs = mapping(section.jobs, file, at('jobs'), 'one entry per job, keyed by its name');
  return Object.entries(jobs).map(([name, entry]) => readJob(name, entry, file, at(`jobs.${name}`), output, now));
}

function readJob(name: string, raw: unknown, file: string, key: string, output: SchedulerOutput, now: number) {
  const job = mapping(raw, file, key, 'a job with run: (or worker:) and schedule:');
  unknownKeys(job, JOB_KEYS, file, key);
  const shell = bool(job.shell, false, file, `${key}.shell`);
  const timezone = text(job.timezone, 'UTC', file, `${key}.timezone`);
  const scheduleText = text(job.schedule, undefined, file, `${key}.schedule`);
  let schedule: Schedule;
  try {
    schedule = parseSchedule(scheduleText, timezone, now);
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err;
    const field = /^timezone /.test(err.message) ? 'timezone' : 'schedule';
    const allowed =
      field === 'schedule' ? ` Allowed:\n${SCHEDULE_EXAMPLES.map((line) => `  - ${line}`).join('\n')}` : '';
    throw new ConfigError(file, `${key}.${field}`, `${err.message}${allowed}`, { cause: err });
  }
  const result: ScheduledJob = {
    name,
    file,
    key,
    action: readAction(job, shell, file, key),
    schedule,
    runOnStart: bool(job.run_on_start, false, file, `${key}.run_on_start`),
    tags: tags(job.tags, file, `${key}.tags`),
    output: oneOf(job.output, SCHEDULER_OUTPUTS, output, file, `${key}.output`),
    catchUpMs: catchUp(job.catch_up, file, `${key}.catch_up`),
    allowOverlap: bool(job.allow_overlap, false, file, `${key}.allow_overlap`),
  };
  return result;
}

function readAction(job: Raw, shell: boolean, file: string, key: string): JobAction {
  if (job.worker !== undefined) {
    if (job.run !== undefined || shell) {
      throw new ConfigError(
        file,
        `${key}.worker`,
        'a job has either worker: (enqueue a job of that worker) or run: (a task, or a command with shell: true), not both.',
      );
    }
    const worker = text(job.worker, undefined, file, `${key}.worker`);
    try {
      return { kind: 'worker', worker, args: toJsonArgs(job.args ?? {}, worker) };
    } catch (err) {
      if (!(err instanceof ArgsError)) throw err;
      throw new ConfigError(file, `${key}.args`, err.message, { cause: err });
    }
  }
  if (job.args !== undefined) {
    throw new ConfigError(
      file,
      `${key}.args`,
      'args: goes with worker: only; a task takes its args in run: after its name (run: "report year:2024").',
    );
  }
  if (job.run === undefined || job.run === null || (typeof job.run === 'string' && job.run.trim() === '')) {
    throw new ConfigError(
      file,
      `${key}.run`,
      shell
        ? 'is empty, and shell: true runs it as a command: give the command, such as run: "echo loco >> ./scheduler.txt".'
        : 'is missing: give a task name (run: "report year:2024"), a command with shell: true, or worker: instead.',
    );
  }
  const run = text(job.run, undefined, file, `${key}.run`);
  if (shell) return { kind: 'shell', command: run };
  const [task, ...args] = splitWords(run, file, `${key}.run`);
  for (const arg of args) {
    if (!/^[^:\s]+:/.test(arg)) {
      throw new ConfigError(
        file,
        `${key}.run`,
        `task args are key:value pairs, as in Loco (run: "${task} year:2024 format:csv"), found '${arg}'. ` +
          'To run a shell command instead, set shell: true.',
      );
    }
  }
  return { kind: 'task', task, args };
}

/**
 * Loads the scheduler's jobs: the `scheduler:` section of the loaded config file, and the
 * dedicated file when one is named (relative paths from the app's root). A job name defined in
 * both is an error.
 */
export function loadSchedulerJobs(options: {
  /** The loaded config file and its raw `scheduler:` section. */
  config: { file: string; extra: Record<string, unknown> };
  /** The dedicated file, from `--config` or `SCHEDULER_CONFIG`. */
  file?: string;
  root: string;
  now?: number;
}): ScheduledJob[] {
  const now = options.now ?? Date.now();
  const jobs = readSchedulerSection(options.config.extra.scheduler, options.config.file, 'scheduler', now);
  if (options.file) {
    const file = path.resolve(options.root, options.file);
    for (const job of readSchedulerFile(file, now)) {
      const twin = jobs.find((other) => other.name === job.name);
      if (twin) {
        throw new ConfigError(
          file,
          job.key,
          `a job named '${job.name}' is also defined in ${twin.file} (${twin.key}); job names must be unique across ` +
            'the scheduler: section and the scheduler file. Rename or remove one of them.',
        );
      }
      jobs.push(job);
    }
  }
  return jobs;
}

/** Reads a dedicated scheduler file: Loco's `output:` and `jobs:` at the top (a `scheduler:` wrapper is accepted too). */
export function readSchedulerFile(file: string, now = Date.now()): ScheduledJob[] {
  if (!existsSync(file)) {
    throw new ConfigError(
      file,
      '',
      'no such scheduler file. Check the path given to --config or SCHEDULER_CONFIG (relative paths start at the ' +
        "app's root), or write one with npx loco-gen scheduler.",
    );
  }
  const document = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(file, '', `is not valid YAML: ${document.errors[0].message}`, { cause: document.errors[0] });
  }
  const doc = document.toJS() as unknown;
  if (isRecord(doc) && Object.keys(doc).length === 1 && 'scheduler' in doc) {
    return readSchedulerSection(doc.scheduler ?? {}, file, 'scheduler', now);
  }
  return readSchedulerSection(doc ?? {}, file, '', now);
}

/**
 * Checks that every task and worker a job names is registered by the app; a `ConfigError` on the
 * first that is not, naming the job, what is registered, and what to do.
 */
export function checkJobTargets(jobs: ScheduledJob[], registered: { tasks: string[]; workers: string[] }): void {
  for (const job of jobs) {
    const { action } = job;
    if (action.kind === 'task' && !registered.tasks.includes(action.task)) {
      const hint = suggest(action.task, registered.tasks);
      throw new ConfigError(
        job.file,
        `${job.key}.run`,
        `names the task '${action.task}', which the app does not register${hint ? ` (did you mean ${hint}?)` : ''}; ` +
          `registered tasks: ${registered.tasks.join(', ') || 'none'}. Register the task, fix the name, or set ` +
          'shell: true to run the text as a shell command. Nothing was started.',
      );
    }
    if (action.kind === 'worker' && !registered.workers.includes(action.worker)) {
      const hint = suggest(action.worker, registered.workers);
      throw new ConfigError(
        job.file,
        `${job.key}.worker`,
        `'${action.worker}' is not a registered worker${hint ? ` (did you mean ${hint}?)` : ''}; registered workers: ` +
          `${registered.workers.join(', ') || 'none'}. Register it in connectWorkers (queue.register(` +
          `${action.worker}.build(ctx))) or fix the name. Nothing was started.`,
      );
    }
  }
}

/** The jobs `loco scheduler --name N --tag T` runs: those with that name and that tag (either may be left out). */
export function selectJobs(jobs: ScheduledJob[], filter: { name?: string; tag?: string }): ScheduledJob[] {
  const picked = jobs.filter(
    (job) =>
      (filter.name === undefined || job.name === filter.name) &&
      (filter.tag === undefined || job.tags.includes(filter.tag)),
  );
  if (picked.length === 0 && jobs.length > 0) {
    const wanted = [filter.name && `named '${filter.name}'`, filter.tag && `tagged '${filter.tag}'`]
      .filter(Boolean)
      .join(' and ');
    const tags = [...new Set(jobs.flatMap((job) => job.tags))];
    throw new LocoError(
      `No scheduler job is ${wanted}. Jobs: ${jobs.map((job) => job.name).join(', ')}; tags: ${tags.join(', ') || 'none'}.`,
    );
  }
  return picked;
}

/**
 * Splits `run:` into words as a shell would for Loco's `task` command line: spaces separate,
 * single or double quotes keep spaces, a backslash escapes the next character.
 */
export function splitWords(line: string, file: string, key: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      word ??= '';
    } else if (char === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (quote) throw new ConfigError(file, key, `has an unclosed ${quote} quote: '${line}'.`);
  if (word !== undefined) words.push(word);
  return words;
}

function mapping(raw: unknown, file: string, key: string, what: string): Raw {
  if (!isRecord(raw)) throw new ConfigError(file, key, `expected ${what}, found ${describeValue(raw)}.`);
  return raw;
}

function unknownKeys(section: Raw, allowed: string[], file: string, key: string): void {
  for (const name of Object.keys(section)) {
    if (allowed.includes(name)) continue;
    const hint = suggest(name, allowed);
    throw new ConfigError(
      file,
      key ? `${key}.${name}` : name,
      `unknown key${hint ? ` (did you mean ${hint}?)` : ''}; allowed here: ${allowed.join(', ')}.`,
    );
  }
}

function text(value: unknown, fallback: string | undefined, file: string, key: string): string {
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(file, key, 'is missing.');
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(file, key, `expected a non-empty string, found ${describeValue(value)}.`);
  }
  return value;
}

function bool(value: unknown, fallback: boolean, file: string, key: string): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean')
    throw new ConfigError(file, key, `expected true or false, found ${describeValue(value)}.`);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T, file: string, key: string): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new ConfigError(file, key, `found ${describeValue(value)}; allowed: ${allowed.join(', ')}.`);
  }
  return value as T;
}

function tags(value: unknown, file: string, key: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((tag) => typeof tag !== 'string' || tag.trim() === '')) {
    throw new ConfigError(
      file,
      key,
      `expected a list of tags such as ["base", "infra"], found ${describeValue(value)}.`,
    );
  }
  return value as string[];
}

function catchUp(value: unknown, file: string, key: string): number {
  if (value === undefined || value === null || value === false) return 0;
  let ms: number;
  try {
    if (typeof value !== 'string' && typeof value !== 'number') throw new RangeError('not a duration');
    ms = parseDuration(value, key);
  } catch {
    throw new ConfigError(
      file,
      key,
      `expected how far back a missed time is still run, such as 30m, 1h or 1d, found ${describeValue(value)}.`,
    );
  }
  if (ms > MAX_CATCH_UP_MS) throw new ConfigError(file, key, `is ${value}; the longest catch-up window is 31d.`);
  return ms;
}
