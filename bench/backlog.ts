/**
 * `--backlog N,N,...`: the drain and latency scenarios on a store that already holds a backlog
 * the worker cannot take. Before the timed scenarios, each store is seeded (untimed) with N queued
 * jobs of a name no process registers, N queued `BenchWorker` jobs tagged `elsewhere` (the
 * untagged worker may not take them), and N completed jobs. The claim should pass all of them
 * over at no cost, so the figures are compared with those at backlog 0.
 */
import { monotonicFactory } from 'ulid';
import type { LocoConfig, NewJob } from '../runtime/src/internals.js';
import { boot } from '../runtime/src/internals.js';
import { App } from './app.js';
import { now, payload, round } from './common.js';
import { type BenchConfig, type Result, runScenario } from './scenarios.js';
import type { LocoSystem } from './systems.js';

const ulid = monotonicFactory();

/** The name of the backlog's unregistered jobs (queued and completed). */
export const ARCHIVED_NAME = 'ArchivedReportWorker';
/** The tag of the backlog's `BenchWorker` jobs: the bench's worker process takes untagged jobs only. */
export const ELSEWHERE_TAG = 'elsewhere';
/** Jobs per enqueue call while seeding. */
const SEED_BATCH = 5000;

/** One backlog size's figures for one store. */
export interface BacklogRow {
  system: string;
  backlog: number;
  seed_s: number;
  drain: Result;
  latency: Result;
}

function seedJob(name: string, tags: string[], at: number, completed: boolean): NewJob {
  return {
    id: ulid(),
    name,
    task_data: payload(),
    run_at: at,
    interval: null,
    tags,
    queue: null,
    priority: 0,
    key: null,
    concurrency_key: null,
    max_attempts: 3,
    created_at: at,
    restore: completed ? { status: 'completed', attempts: 1, last_error: null, updated_at: at } : undefined,
  };
}

/** Writes the backlog of `size` x 3 jobs into the store `config` opens. */
async function seedBacklog(config: LocoConfig, size: number): Promise<void> {
  const booted = await boot(App, { config, root: process.cwd(), environment: 'bench' });
  try {
    const backend = booted.ctx.queue.backend!;
    const at = Date.now() - 60_000;
    const kinds: Array<[string, string[], boolean]> = [
      [ARCHIVED_NAME, [], false],
      ['BenchWorker', [ELSEWHERE_TAG], false],
      [ARCHIVED_NAME, [], true],
    ];
    for (const [name, tags, completed] of kinds) {
      for (let done = 0; done < size; done += SEED_BATCH) {
        const count = Math.min(SEED_BATCH, size - done);
        await backend.enqueue(Array.from({ length: count }, () => seedJob(name, tags, at, completed)));
      }
    }
  } finally {
    await booted.shutdown();
  }
}

/**
 * For each store and backlog size: a fresh store, the backlog seeded, then `drain` and `latency`
 * on it (the drain's jobs, once completed, stay: they add N to the completed backlog).
 */
export async function runBacklog(systems: LocoSystem[], sizes: number[], cfg: BenchConfig): Promise<BacklogRow[]> {
  const rows: BacklogRow[] = [];
  for (const system of systems) {
    for (const size of sizes) {
      const config = await system.setup();
      const t0 = now();
      process.stdout.write(`[${system.name}] backlog ${size.toLocaleString('en')} x 3: seeding ... `);
      try {
        await seedBacklog(config, size);
        const seed_s = round((now() - t0) / 1000, 1);
        process.stdout.write(`${seed_s}s; drain ... `);
        const drain = await runScenario(system, 'drain', cfg, config);
        process.stdout.write(`${drain.jobs_per_s ?? drain.status} jobs/s; latency ... `);
        const latency = await runScenario(system, 'latency', cfg, config);
        console.log(`p50 ${latency.p50_ms ?? latency.status} ms`);
        rows.push({ system: system.name, backlog: size, seed_s, drain, latency });
      } finally {
        await system.teardown();
      }
    }
  }
  return rows;
}
