// Helpers for the CLI tests: a copy of the fixture app, `loco` run as a child process inside it,
// and seeding a store with jobs in every status.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type JobRecord, type JobStatus, Queue, type QueueBackend } from '../../runtime/src/internals.js';
import { completedOutcome, failedOutcome } from '../queue/helpers.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DUMPS = path.join(ROOT, 'test/fixtures/dumps');
const CLI = path.join(ROOT, 'runtime/src/cli/main.ts');
const TSX = import.meta.resolve('tsx');

/**
 * Copies a fixture app of test/fixtures/apps (the jobs CLI's, unless named) into a temp folder.
 * Its tsconfig maps `loco-runtime` to this repository's runtime sources by a relative path; the
 * copy gets the absolute one, standing in for an installed `node_modules/loco-runtime`.
 */
export function copyFixtureApp(name = 'jobs-app'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `loco-${name}-`));
  cpSync(path.join(ROOT, 'test/fixtures/apps', name), dir, { recursive: true });
  const tsconfigFile = path.join(dir, 'tsconfig.json');
  const tsconfig = JSON.parse(readFileSync(tsconfigFile, 'utf8'));
  tsconfig.compilerOptions.paths = { 'loco-runtime': [path.join(ROOT, 'runtime/src/index.ts')] };
  writeFileSync(tsconfigFile, JSON.stringify(tsconfig, null, 2));
  return dir;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `loco <args>` in `cwd` as a real child process, the way `npx loco` would. */
export function runLoco(cwd: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], {
    cwd,
    env: { ...process.env, LOCO_DEBUG: '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`loco ${args.join(' ')} did not finish within 30 s; output:\n${stdout}${stderr}`));
    }, 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running `loco` child process (such as `loco start --worker`) and its output so far. */
export interface RunningLoco {
  child: ChildProcess;
  output: () => string;
}

/** Starts `loco <args>` in `cwd` as a child process and leaves it running; the caller stops it. */
export function startLoco(cwd: string, args: string[], env: Record<string, string>): RunningLoco {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], {
    cwd,
    env: { ...process.env, LOCO_DEBUG: '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

/** A job to put in the store before a command runs. */
export interface Seed {
  name: string;
  args?: unknown;
  tags?: string[];
  queue?: string | null;
  interval?: string;
  /** (Default: 3, as the fixture's workers without a retry policy) */
  maxAttempts?: number;
  status?: JobStatus;
  /** The error a `failed` job ends with. */
  error?: string;
}

/**
 * Enqueues the jobs and moves each to its status through the backend's own verbs (claim,
 * finish, cancel). Jobs that leave `queued` go first, one at a time, so that each claim or cancel
 * can only reach the job just enqueued. Returns the ids in the order of `seeds`.
 */
export async function seed(backend: QueueBackend, seeds: Seed[]): Promise<string[]> {
  const queue = new Queue('BackgroundQueue', backend);
  const ids: string[] = new Array(seeds.length);
  const order = seeds.map((job, index) => ({ job, index })).sort((a, b) => rank(a.job) - rank(b.job));
  for (const { job, index } of order) {
    const [{ id }] = await queue.enqueueByName(job.name, [job.args ?? {}], {
      tags: job.tags ?? [],
      queue: job.queue ?? null,
      interval: job.interval,
      maxAttempts: job.maxAttempts ?? 3,
    });
    ids[index] = id!;
    const status = job.status ?? 'queued';
    if (status === 'queued') continue;
    if (status === 'cancelled') {
      await backend.cancel(job.name);
      continue;
    }
    const [claimed] = await backend.claim({
      names: [job.name],
      tags: [],
      anyTag: true,
      limit: 1,
      leaseMs: 600_000,
      now: Date.now() + 1,
    });
    if (claimed?.id !== id) throw new Error(`seed: expected to claim ${id}, claimed ${claimed?.id}`);
    if (status === 'completed') await backend.finish([completedOutcome(claimed)]);
    if (status === 'failed') {
      await backend.finish([failedOutcome(claimed, job.error ?? 'Error: failed')]);
    }
  }
  return ids;
}

function rank(job: Seed): number {
  return (job.status ?? 'queued') === 'queued' ? 1 : 0;
}

/** Every job in the store, by id. */
export async function jobsById(backend: QueueBackend): Promise<Map<string, JobRecord>> {
  return new Map((await backend.list({})).map((job) => [job.id, job]));
}

/** `{ status: count }` of the whole store. */
export async function countByStatus(backend: QueueBackend): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const row of await backend.stats()) counts[row.status] = (counts[row.status] ?? 0) + row.count;
  return counts;
}

/** What survives a dump and an import: everything but ids, statuses, attempts and times. */
export function portable(job: JobRecord): string {
  return JSON.stringify([job.name, job.task_data, job.tags, job.queue, job.interval, job.max_attempts]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
