/**
 * The drill's view of the store and of the runs: it enqueues the jobs, follows the drain, and
 * at the end counts what a user would ask about: did every job run, did any run twice, is any
 * left behind.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type BootedApp, boot, silentLogger } from '../runtime/src/internals.js';
import type { WorkerEnv } from './workers.js';
import { FIXTURE } from './workers.js';

/** The fixture's worker, enqueued by name (the drill does not load the fixture app itself). */
const WORKER = 'ChaosWorker';

/** The drill's connection to the store: the fixture's config, no workers registered. */
export async function openStore(env: WorkerEnv): Promise<BootedApp> {
  process.env.CHAOS_QUEUE_KIND = env.kind;
  process.env.CHAOS_QUEUE_URI = env.uri;
  process.env.CHAOS_RUNS_DIR = env.runsDir;
  // Silent: while a store is down, its driver's complaints are expected; the tables say the rest.
  const logger = silentLogger;
  return boot(
    { appName: 'chaos-drill', connectWorkers: async () => {} },
    { environment: 'chaos', root: FIXTURE, logger },
  );
}

/** Enqueues jobs `{ n: first .. first+count-1, ms: jobMs }`, 1,000 per write; every one must be added. */
export async function enqueueJobs(app: BootedApp, first: number, count: number, jobMs: number): Promise<void> {
  for (let from = first; from < first + count; from += 1000) {
    const args = Array.from({ length: Math.min(1000, first + count - from) }, (_, i) => ({ n: from + i, ms: jobMs }));
    const results = await app.ctx.queue.enqueueByName(WORKER, args, { maxAttempts: 1000 });
    const added = results.filter((result) => result.added).length;
    if (added !== args.length) throw new Error(`Expected ${args.length} jobs added, the store added ${added}.`);
  }
}

/** Jobs of the drill completed so far, or undefined while the store does not answer. */
export async function completedCount(app: BootedApp): Promise<number | undefined> {
  try {
    const rows = await app.ctx.queue.backend!.stats();
    return rows.filter((row) => row.status === 'completed').reduce((sum, row) => sum + Number(row.count), 0);
  } catch {
    return undefined;
  }
}

/** Run count per job number, from every worker process's file. */
export function readRuns(runsDir: string): Map<number, number> {
  const runs = new Map<number, number>();
  for (const file of readdirSync(runsDir)) {
    if (!file.startsWith('runs-')) continue;
    for (const line of readFileSync(path.join(runsDir, file), 'utf8').split('\n')) {
      if (line === '') continue;
      const n = Number(line);
      runs.set(n, (runs.get(n) ?? 0) + 1);
    }
  }
  return runs;
}

/** One drill's figures: the row of its table. */
export interface Tally {
  enqueued: number;
  /** Jobs the store holds as `completed`. */
  completed: number;
  /** Runs that reached the end of `perform`, re-runs included. */
  runs: number;
  /** Runs past the first of each job: work done again after a kill or an outage. */
  duplicates: number;
  /** Jobs that will never run: not in the store, `failed`/`cancelled`, or `completed` without a run. */
  lost: number;
  /** Jobs still `queued` or `processing` when the drill gave up waiting. */
  stuck: number;
}

/** Counts the drill's jobs in the store against the runs recorded. */
export async function tally(app: BootedApp, enqueued: number, runsDir: string): Promise<Tally> {
  const runs = readRuns(runsDir);
  const records = await app.ctx.queue.backend!.list({ name: WORKER });
  const status = new Map<number, string>();
  for (const record of records) status.set((record.task_data as { n: number }).n, record.status);
  let completed = 0;
  let lost = 0;
  let stuck = 0;
  for (let n = 0; n < enqueued; n += 1) {
    const state = status.get(n);
    if (state === 'completed') completed += 1;
    if (state === 'queued' || state === 'processing') stuck += 1;
    else if (state !== 'completed' || !runs.has(n)) lost += 1;
  }
  const total = [...runs.values()].reduce((sum, count) => sum + count, 0);
  return { enqueued, completed, runs: total, duplicates: total - runs.size, lost, stuck };
}
