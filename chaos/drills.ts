/**
 * The three drills. Each enqueues its jobs into a fresh store (its own SQLite file, Postgres
 * schema or Redis prefix), starts worker processes, disturbs them while they drain, waits for
 * the drain, stops the workers with SIGTERM and counts.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { between, pick, sleep, waitUntil } from './common.js';
import type { StoreServer } from './servers.js';
import { completedCount, enqueueJobs, openStore, readRuns, type Tally, tally } from './tally.js';
import { startWorkers, type WorkerEnv, type WorkerProcess } from './workers.js';

/** What every drill is given. */
export interface DrillSettings {
  kind: WorkerEnv['kind'];
  /** The store's URI for this drill (its own file, schema or prefix). */
  uri: string;
  /** This drill's folder: runs and logs. */
  dir: string;
  jobs: number;
  /** How long each job works, in ms: long enough that kills land on running jobs. */
  jobMs: number;
  /** Longest wait for the drain once the disturbance is over. */
  drainTimeoutMs: number;
}

/** A drill's outcome: its counts and what went wrong beside them. */
export interface DrillResult {
  title: string;
  tally: Tally;
  seconds: number;
  /** Processes SIGKILLed by the drill. */
  kills: number;
  /** Worker processes that exited without being asked: each one is a failure. */
  unexpectedExits: string[];
  /** Worker processes still running 15 s after SIGTERM. */
  hung: number;
  /** Other observations, each `ok` or a failure, e.g. the integrity check. */
  checks: Array<{ what: string; ok: boolean; detail: string }>;
}

/** What a disturbance works with. */
interface Drain {
  workers: WorkerProcess[];
  /** Whether every job enqueued so far is `completed`. */
  done(): boolean;
  /** Enqueues `count` more jobs, numbered after the others. */
  enqueueMore(count: number): Promise<void>;
  result: DrillResult;
}

/** What a drill does to the workers and the store while they drain; resolves when it is done. */
type Disturbance = (drain: Drain) => Promise<void>;

async function drain(
  settings: DrillSettings,
  title: string,
  workerCount: number,
  disturb: Disturbance,
): Promise<DrillResult> {
  const runsDir = path.join(settings.dir, 'runs');
  const logDir = path.join(settings.dir, 'logs');
  mkdirSync(runsDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const env: WorkerEnv = { kind: settings.kind, uri: settings.uri, runsDir, logDir, numWorkers: 4 };
  const app = await openStore(env);
  const result: DrillResult = {
    title,
    tally: undefined!,
    seconds: 0,
    kills: 0,
    unexpectedExits: [],
    hung: 0,
    checks: [],
  };
  let workers: WorkerProcess[] = [];
  try {
    let enqueued = settings.jobs;
    await enqueueJobs(app, 0, enqueued, settings.jobMs);
    // Redis writes its AOF once a second: let the enqueued jobs reach the disk before any crash.
    if (settings.kind === 'Redis') await sleep(1500);
    const started = Date.now();
    workers = startWorkers(env, workerCount);
    let completed = 0;
    let asking = false;
    const done = () => completed >= enqueued;
    const enqueueMore = async (count: number) => {
      await enqueueJobs(app, enqueued, count, settings.jobMs);
      enqueued += count;
    };
    const follow = setInterval(async () => {
      if (asking) return; // the store may be down: one question at a time
      asking = true;
      completed = (await completedCount(app)) ?? completed;
      asking = false;
    }, 250);
    try {
      await disturb({ workers, done, enqueueMore, result });
      await waitUntil(done, settings.drainTimeoutMs);
    } finally {
      clearInterval(follow);
    }
    result.seconds = Math.round((Date.now() - started) / 100) / 10;
    // A last job may have run but not yet be recorded: give the outcome writers a moment.
    await sleep(500);
    await Promise.all(workers.map((worker) => worker.stop(15_000)));
    for (const worker of workers) {
      result.unexpectedExits.push(...worker.unexpectedExits);
      result.hung += worker.hung;
    }
    result.tally = await tally(app, enqueued, runsDir);
    return result;
  } finally {
    await Promise.all(workers.map((worker) => worker.kill()));
    await app.shutdown();
  }
}

/** SIGKILLs `worker` and starts its slot again. */
async function killAndRestart(worker: WorkerProcess, result: DrillResult): Promise<void> {
  await worker.kill();
  result.kills += 1;
  worker.start();
}

/** How long drill 1 goes on killing before the workers left drain in peace (and must finish). */
const STORM_MS = 60_000;

/**
 * Drill 1: 3 workers drain while one of them, at random, is SIGKILLed and restarted every 1-2 s,
 * until the drain ends or for 60 s at most.
 */
export function killStorm(settings: DrillSettings): Promise<DrillResult> {
  const title = '3 workers, one SIGKILLed and restarted every 1-2 s (for 60 s at most)';
  return drain(settings, title, 3, async ({ workers, done, result }) => {
    const stormEnds = Date.now() + STORM_MS;
    while (!done() && Date.now() < stormEnds) {
      await sleep(between(1000, 2000));
      // Only a worker past its boot holds jobs: killing one still loading tsx tests nothing.
      const working = workers.filter((worker) => worker.ready);
      if (working.length > 0 && !done()) await killAndRestart(pick(working), result);
    }
  });
}

/** Jobs enqueued after the idle workers' store came back, in drill 2. */
const JOBS_AFTER_IDLE_CRASH = 400;

/**
 * Drill 2: 3 workers drain; a quarter of the way through, the store server is crashed (Redis
 * SIGKILL, Postgres `stop -m immediate`) and started again 5 s later. The same worker processes
 * must go on by themselves: each must run jobs again after the restart. Once the drain is over,
 * the server is crashed again while the workers wait for work, restarted 5 s later, and 400 more
 * jobs enqueued: each idle worker must wake up for them (its blocking pop or LISTEN reconnected).
 */
export function serverCrash(settings: DrillSettings, server: StoreServer, how: string): Promise<DrillResult> {
  const title = `3 workers; ${how} a quarter into the drain and again once idle, restarted after 5 s`;
  return drain(settings, title, 3, async ({ workers, done, enqueueMore, result }) => {
    await waitUntil(() => readProgress(settings) >= settings.jobs / 4, settings.drainTimeoutMs, 100);
    if (done())
      throw new Error('The drain ended before the store could be crashed: give the jobs more work (--job-ms).');
    const busy = await crashAndWatch(server, settings, workers.length, () => Promise.resolve());
    result.checks.push({ what: 'every busy worker ran jobs again after the restart', ...busy });

    if (!(await waitUntil(done, settings.drainTimeoutMs))) return; // the tally reports what is stuck
    await sleep(1000); // the workers are waiting for work now
    const idle = await crashAndWatch(server, settings, workers.length, () => enqueueMore(JOBS_AFTER_IDLE_CRASH));
    result.checks.push({ what: `every idle worker took new jobs after the restart`, ...idle });
  });
}

/**
 * Crashes the server, starts it again 5 s later, calls `then`, and waits up to 30 s for all
 * `workers` to record runs after the restart.
 */
async function crashAndWatch(
  server: StoreServer,
  settings: DrillSettings,
  workers: number,
  then: () => Promise<void>,
): Promise<{ ok: boolean; detail: string }> {
  await server.crash();
  await sleep(5000);
  await server.restart();
  const back = Date.now();
  await then();
  const ok = await waitUntil(() => runFilesTouchedSince(settings, back) >= workers, 30_000, 100);
  const after = Math.round((Date.now() - back) / 100) / 10;
  const detail = ok
    ? `all ${workers} within ${after} s`
    : `${runFilesTouchedSince(settings, back)} of ${workers} within 30 s; see ${settings.dir}/logs`;
  return { ok, detail };
}

/** Jobs run at least once so far, from the run files: readable while the store is down. */
function readProgress(settings: DrillSettings): number {
  return readRuns(path.join(settings.dir, 'runs')).size;
}

/** Worker processes whose run file changed at or after `since`. */
function runFilesTouchedSince(settings: DrillSettings, since: number): number {
  const runsDir = path.join(settings.dir, 'runs');
  return readdirSync(runsDir).filter((file) => statSync(path.join(runsDir, file)).mtimeMs >= since).length;
}

/**
 * Drill 3 (SQLite): two workers on one file, each SIGKILLed 0.5-1.5 s after it starts working,
 * over and over, until the drain ends (40 s at most); then `PRAGMA integrity_check` on the file.
 */
export async function sqliteKills(settings: DrillSettings, file: string): Promise<DrillResult> {
  const title = 'two workers on one file, each SIGKILLed 0.5-1.5 s into its work, for 40 s at most';
  const result = await drain(settings, title, 2, async ({ workers, done, result }) => {
    const stormEnds = Date.now() + 40_000;
    const lifetime = workers.map(() => between(500, 1500));
    while (!done() && Date.now() < stormEnds) {
      await sleep(50);
      for (const worker of workers) {
        if (!worker.ready || worker.upMs < lifetime[worker.slot]) continue;
        lifetime[worker.slot] = between(500, 1500);
        await killAndRestart(worker, result);
      }
    }
  });
  result.checks.push(integrityCheck(file));
  return result;
}

/** `PRAGMA integrity_check` on a SQLite file no process uses any more. */
export function integrityCheck(file: string): DrillResult['checks'][number] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('PRAGMA integrity_check').pluck().all() as string[];
    const ok = rows.length === 1 && rows[0] === 'ok';
    return { what: `PRAGMA integrity_check of ${path.basename(file)}`, ok, detail: rows.slice(0, 5).join('; ') };
  } finally {
    db.close();
  }
}
