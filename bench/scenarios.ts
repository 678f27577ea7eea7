/**
 * The four scenarios of the peers harness, run against loco through its public API. Each runs on
 * a freshly set-up, empty store and is bounded by the timeout; bench/README.md says what each times.
 */
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BootedApp, boot, type LocoConfig } from '../runtime/src/internals.js';
import { App, BenchWorker, PausedWorker, probe } from './app.js';
import {
  chunks,
  deferred,
  messageOf,
  now,
  payload,
  percentile,
  round,
  sleep,
  TimeoutError,
  withTimeout,
} from './common.js';
import type { DrainJob, DrainReport } from './drain-worker.js';
import type { LocoSystem } from './systems.js';

/** Every scenario; `DEFAULT_SCENARIOS` run unless `--scenarios` names others. */
export const SCENARIOS = ['enqueue', 'batch', 'drain', 'latency', 'unique', 'blocked'] as const;
export type Scenario = (typeof SCENARIOS)[number];
/** As in the peers harness, `unique` (and our `blocked`) run only when named. */
export const DEFAULT_SCENARIOS: Scenario[] = ['enqueue', 'batch', 'drain', 'latency'];

/** What the command line sets. */
export interface BenchConfig {
  n: number;
  concurrency: number;
  batch: number;
  timeoutMs: number;
  latencySamples: number;
  latencyGapMs: number;
  latencyWarmup: number;
  latencyProbeTimeoutMs: number;
  /** Where drain worker processes write `--cpu-prof` profiles, if set. */
  profileDir?: string;
  /** Node options for the drain worker processes only (`--drain-node-flags`). */
  drainNodeFlags: string[];
}

/** One scenario's result, with the field names of the peers harness. */
export interface Result {
  status: 'ok' | 'timeout' | 'error' | 'n/a';
  [field: string]: unknown;
}

/** Set when the scenario's time is up; loops check `aborted`. */
interface Control {
  aborted: boolean;
  done: number;
  phaseStart: number | null;
  samples: number[] | null;
  abort: Promise<undefined>;
}

type ScenarioFn = (system: LocoSystem, config: LocoConfig, ctl: Control, cfg: BenchConfig) => Promise<Result | null>;

/** Boots the app as a user's process does: `boot(App, { config })`. */
async function bootApp(config: LocoConfig): Promise<BootedApp> {
  probe.onJob = () => {};
  probe.seedInConnectWorkers = [];
  probe.seededAt = 0;
  return boot(App, { config, root: os.tmpdir(), environment: 'bench' });
}

/** Starts the worker loop the way `loco start --worker` does; the in-process pool runs from boot. */
function startWorkers(booted: BootedApp, signal: AbortSignal): Promise<void> {
  if (booted.ctx.queue.mode === 'BackgroundAsync') return Promise.resolve();
  return booted.runWorkers({ tags: [], signal }).then(() => undefined);
}

const enqueue: ScenarioFn = async (_system, config, ctl, cfg) => {
  const booted = await bootApp(config);
  try {
    const items = Array.from({ length: cfg.n }, payload);
    const t0 = now();
    for (let i = 0; i < items.length; i++) {
      if (ctl.aborted) return null;
      await BenchWorker.performLater(booted.ctx, items[i]);
      ctl.done = i + 1;
    }
    const s = (now() - t0) / 1000;
    return { status: 'ok', jobs: cfg.n, seconds: round(s, 3), jobs_per_s: round(cfg.n / s) };
  } finally {
    await booted.shutdown();
  }
};

const batch: ScenarioFn = async (_system, config, ctl, cfg) => {
  const booted = await bootApp(config);
  try {
    const batches = chunks(Array.from({ length: cfg.n }, payload), cfg.batch);
    const t0 = now();
    for (const items of batches) {
      if (ctl.aborted) return null;
      await BenchWorker.performLaterMany(booted.ctx, items);
      ctl.done += items.length;
    }
    const s = (now() - t0) / 1000;
    return { status: 'ok', jobs: cfg.n, batch_size: cfg.batch, seconds: round(s, 3), jobs_per_s: round(cfg.n / s) };
  } finally {
    await booted.shutdown();
  }
};

const DRAIN_WORKER = fileURLToPath(new URL('./drain-worker.ts', import.meta.url));

/**
 * N jobs are seeded (untimed), then a worker process of its own boots the app and runs the loop;
 * it times the drain, checks the store 200 ms after the N-th call and reports its peak RSS.
 */
const drain: ScenarioFn = (system, config, ctl, cfg) => drainAfter(0, system, config, ctl, cfg);

/** Jobs of a paused worker the `blocked` scenario queues ahead of the N it drains. */
const BLOCKED_JOBS = 10_000;

/**
 * The drain, with 10,000 jobs of a paused worker (registered in the worker process too) queued
 * ahead of the N jobs: the claim must pass them over without slowing, so the figure is compared
 * with `drain` at the same N.
 */
const blocked: ScenarioFn = (system, config, ctl, cfg) => {
  if (config.workers.mode === 'BackgroundAsync') {
    return Promise.resolve({ status: 'n/a', note: 'its pool runs jobs as they are enqueued' });
  }
  return drainAfter(BLOCKED_JOBS, system, config, ctl, cfg);
};

async function drainAfter(
  blockedJobs: number,
  system: LocoSystem,
  config: LocoConfig,
  ctl: Control,
  cfg: BenchConfig,
): Promise<Result | null> {
  const started = now();
  const inProcess = config.workers.mode === 'BackgroundAsync';
  if (!inProcess) {
    const booted = await bootApp(config);
    try {
      if (blockedJobs > 0) {
        await booted.ctx.queue.pause('PausedWorker');
        for (const items of chunks(Array.from({ length: blockedJobs }, payload), cfg.batch)) {
          await PausedWorker.performLaterMany(booted.ctx, items);
        }
      }
      for (const items of chunks(Array.from({ length: cfg.n }, payload), cfg.batch)) {
        if (ctl.aborted) return null;
        await BenchWorker.performLaterMany(booted.ctx, items);
      }
    } finally {
      await booted.shutdown();
    }
  }
  const job: DrainJob = {
    config,
    n: cfg.n,
    batch: cfg.batch,
    seedInConnectWorkers: inProcess,
    budgetMs: Math.max(1, cfg.timeoutMs - (now() - started)),
  };
  const execArgv = [...process.execArgv, ...cfg.drainNodeFlags];
  // One folder per system: each thread (the main one, tsx's loader) writes a profile of its own.
  if (cfg.profileDir) execArgv.push('--cpu-prof', '--cpu-prof-dir', path.join(cfg.profileDir, `drain-${system.name}`));
  const child = fork(DRAIN_WORKER, [], {
    execArgv,
    env: { ...process.env, LOCO_BENCH_DRAIN: JSON.stringify(job) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const report = deferred<DrainReport | undefined>();
  child.on('message', (message) => report.resolve(message as DrainReport));
  child.on('exit', (code, signal) => {
    report.reject(new Error(`the drain worker process exited (${signal ?? `code ${code}`}) without a report`));
  });
  const onAbort = () => {
    child.kill('SIGKILL');
    report.resolve(undefined);
  };
  void ctl.abort.then(onAbort);
  const result = await report.promise;
  if (!result) return null;
  if (result.status !== 'ok') return result;
  return { ...result, concurrency: cfg.concurrency, ...(blockedJobs > 0 ? { paused_jobs_ahead: blockedJobs } : {}) };
}

const latency: ScenarioFn = async (_system, config, ctl, cfg) => {
  const booted = await bootApp(config);
  const stop = new AbortController();
  let loop: Promise<void> | undefined;
  try {
    let pending: { id: string; arrived: (t: number) => void } | null = null;
    probe.onJob = (args) => {
      if (pending && args.user_guid === pending.id) pending.arrived(now());
    };
    loop = startWorkers(booted, stop.signal);
    await sleep(500); // let the worker reach its idle state
    const samples: number[] = [];
    ctl.samples = samples;
    for (let i = 0; i < cfg.latencyWarmup + cfg.latencySamples; i++) {
      if (ctl.aborted) return null;
      const data = payload();
      const arrival = deferred<number>();
      pending = { id: data.user_guid, arrived: arrival.resolve };
      const t0 = now();
      const enqueued = BenchWorker.performLater(booted.ctx, data);
      const tStart = await withTimeout(arrival.promise, cfg.latencyProbeTimeoutMs, 'latency probe');
      await enqueued;
      if (i >= cfg.latencyWarmup) samples.push(tStart - t0);
      if (cfg.latencyGapMs > 0) await sleep(cfg.latencyGapMs);
    }
    return { status: 'ok', ...latencyStats(samples) };
  } finally {
    stop.abort();
    await loop;
    await booted.shutdown();
  }
};

export function latencyStats(samples: number[]): Record<string, number | null> {
  const s = [...samples].sort((x, y) => x - y);
  const r = (x: number | null) => (x === null ? null : round(x, 2));
  return {
    samples: s.length,
    p50_ms: r(percentile(s, 50)),
    p95_ms: r(percentile(s, 95)),
    p99_ms: r(percentile(s, 99)),
    max_ms: r(s.length ? s[s.length - 1] : null),
    mean_ms: r(s.reduce((x, y) => x + y, 0) / (s.length || 1)),
  };
}

/**
 * N awaited `performLater` calls with unique keys, call i with key `k<i mod N/2>`, so the second
 * half repeat keys whose jobs are still queued (no worker runs) -> calls/s; then the stored jobs
 * are counted (expected N/2), as the peers harness's `unique` does.
 */
const unique: ScenarioFn = async (_system, config, ctl, cfg) => {
  if (config.workers.mode === 'BackgroundAsync') {
    return { status: 'n/a', note: 'its in-process pool runs jobs as they are enqueued, which frees their keys' };
  }
  const booted = await bootApp(config);
  try {
    const keys = Math.max(1, Math.floor(cfg.n / 2));
    const items = Array.from({ length: cfg.n }, payload);
    ctl.phaseStart = now();
    const t0 = ctl.phaseStart;
    for (let i = 0; i < items.length; i++) {
      if (ctl.aborted) return null;
      await BenchWorker.performLater(booted.ctx, items[i], { key: `k${i % keys}` });
      ctl.done = i + 1;
    }
    const s = (now() - t0) / 1000;
    const stored = (await booted.ctx.queue.backend!.stats()).reduce((sum, row) => sum + row.count, 0);
    return {
      status: 'ok',
      calls: cfg.n,
      keys,
      seconds: round(s, 3),
      jobs_per_s: round(cfg.n / s),
      expected_stored: keys,
      stored,
    };
  } finally {
    await booted.shutdown();
  }
};

const SCENARIO_FNS: Record<Scenario, ScenarioFn> = { enqueue, batch, drain, latency, unique, blocked };

/** Extra time a drain gets past the timeout for its worker process to report a partial result. */
const DRAIN_GRACE_MS = 30_000;

/**
 * Sets up a fresh store, runs one scenario within the timeout, and cleans up. Never throws. With
 * `prepared` (the config of a store set up by the caller, such as a seeded backlog), the store is
 * used as it is and left for the caller to clean.
 */
export async function runScenario(
  system: LocoSystem,
  scenario: Scenario,
  cfg: BenchConfig,
  prepared?: LocoConfig,
): Promise<Result> {
  const aborted = deferred<undefined>();
  const ctl: Control = { aborted: false, done: 0, phaseStart: null, samples: null, abort: aborted.promise };
  const abort = () => {
    ctl.aborted = true;
    aborted.resolve(undefined);
  };
  let result: Result;
  let timer: NodeJS.Timeout | undefined;
  try {
    const config = prepared ?? (await withTimeout(system.setup(), 60_000, `${system.name} setup`));
    const t0 = now();
    const limit = cfg.timeoutMs + (scenario === 'drain' || scenario === 'blocked' ? DRAIN_GRACE_MS : 0);
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        abort();
        resolve('timeout');
      }, limit);
    });
    const work = SCENARIO_FNS[scenario](system, config, ctl, cfg);
    work.catch(() => {}); // after a timeout, the abandoned scenario may still reject
    let r: Result | null | 'timeout';
    try {
      r = await Promise.race([work, timeout]);
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      r = 'timeout'; // a latency probe that never reached the handler
      abort();
    }
    if (r === 'timeout' || r === null) {
      const elapsed = (now() - (ctl.phaseStart ?? t0)) / 1000;
      result = { status: 'timeout', timeout_s: cfg.timeoutMs / 1000, done: ctl.done };
      if (scenario !== 'latency') result.partial_jobs_per_s = round(ctl.done / elapsed, 1);
      if (scenario === 'latency' && ctl.samples?.length) Object.assign(result, latencyStats(ctl.samples));
    } else {
      result = r;
    }
  } catch (err) {
    abort();
    result = { status: 'error', error: messageOf(err).slice(0, 500) };
  } finally {
    clearTimeout(timer);
  }
  if (prepared) return result;
  try {
    await withTimeout(system.teardown(), 60_000, `${system.name} teardown`);
  } catch (err) {
    console.error(`  [${system.name}] teardown failed: ${messageOf(err)}`);
  }
  return result;
}
