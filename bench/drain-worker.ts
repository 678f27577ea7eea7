/**
 * The worker process of the drain scenario, started by scenarios.ts with LOCO_BENCH_DRAIN set.
 * It boots the app and runs the loop as `loco start --worker` does, times the drain until the
 * handler has been called N times, checks the store 200 ms later, and sends one DrainReport.
 */
import os from 'node:os';
import { boot, type LocoConfig } from '../runtime/src/internals.js';
import { App, probe } from './app.js';
import { deferred, messageOf, now, payload, round, sleep } from './common.js';
import type { Result } from './scenarios.js';

/** What the parent asks for. */
export interface DrainJob {
  config: LocoConfig;
  n: number;
  batch: number;
  /** BackgroundAsync: the jobs are enqueued inside connectWorkers, before boot starts the pool. */
  seedInConnectWorkers: boolean;
  /** Time left for the drain before it reports `timeout`. */
  budgetMs: number;
}

export type DrainReport = Result;

const mb = (bytes: number) => round(bytes / 2 ** 20, 1);

/** Counts by status from `backend.stats()`. */
function byStatus(rows: Array<{ status: string; count: number }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of rows) out[row.status] = (out[row.status] ?? 0) + Number(row.count);
  return out;
}

async function main(): Promise<DrainReport> {
  const job = JSON.parse(process.env.LOCO_BENCH_DRAIN ?? '') as DrainJob;
  let count = 0;
  const finished = deferred<number>();
  probe.onJob = () => {
    count += 1;
    if (count === job.n) finished.resolve(now());
  };
  let rssAtStart = 0;
  if (job.seedInConnectWorkers) {
    probe.seedInConnectWorkers = Array.from({ length: job.n }, payload);
    probe.batch = job.batch;
  }
  const stop = new AbortController();
  const booted = await boot(App, { config: job.config, root: os.tmpdir(), environment: 'bench' });
  let t0: number;
  let startCallMs: number | undefined;
  let loop: Promise<void>;
  if (job.seedInConnectWorkers) {
    // boot() started the pool right after connectWorkers returned: the drain began there.
    t0 = probe.seededAt;
    loop = Promise.resolve();
    rssAtStart = process.memoryUsage().rss;
  } else {
    rssAtStart = process.memoryUsage().rss;
    t0 = now();
    loop = booted.runWorkers({ tags: [], signal: stop.signal }).then(() => undefined);
    startCallMs = now() - t0;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, Math.max(1, job.budgetMs - (now() - t0)), undefined);
  });
  const tEnd = await Promise.race([finished.promise, timedOut]);
  clearTimeout(timer);
  if (tEnd === undefined) {
    const elapsed = (now() - t0) / 1000;
    return {
      status: 'timeout',
      timeout_s: round(job.budgetMs / 1000, 1),
      done: count,
      partial_jobs_per_s: round(count / elapsed, 1),
    };
  }
  const s = (tEnd - t0) / 1000;
  await sleep(200); // let the last outcomes land, and look for duplicate deliveries
  const state = byStatus(await booted.ctx.queue.backend!.stats());
  const calls = count;
  stop.abort();
  await loop;
  await booted.shutdown();
  const report: DrainReport = {
    status: 'ok',
    jobs: job.n,
    seconds: round(s, 3),
    jobs_per_s: round(job.n / s),
    rss_at_start_mb: mb(rssAtStart),
    peak_rss_mb: mb(process.resourceUsage().maxRSS * 1024),
    store_state_after_200ms: state,
  };
  if (startCallMs !== undefined) report.start_call_ms = round(startCallMs, 1);
  if (calls !== job.n) report.handler_calls_after_200ms = calls;
  return report;
}

main().then(
  (report) => process.send!(report, () => process.exit(0)),
  (err) =>
    process.send!({ status: 'error', error: messageOf(err).slice(0, 500) } satisfies DrainReport, () =>
      process.exit(1),
    ),
);
