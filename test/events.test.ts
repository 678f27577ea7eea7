// Lifecycle events (`queue.on(...)`) of the jobs a worker runs, on a real SQLite store: completed,
// retrying, failed and stalled, with handlers that throw or reject logged and the loop unharmed.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundWorker, boot, type Hooks, validateConfig } from '../runtime/src/internals.js';
import { recordingLogger } from './queue/helpers.js';

const folder = mkdtempSync(path.join(os.tmpdir(), 'loco-events-'));
test.after(() => rmSync(folder, { recursive: true, force: true }));

class Flaky extends BackgroundWorker<{ n: number; failures: number }> {
  static seen = new Map<number, number>();
  static override retry() {
    return { attempts: 2, backoffMs: 1, maxBackoffMs: 1 };
  }
  async perform(args: { n: number; failures: number }) {
    const runs = (Flaky.seen.get(args.n) ?? 0) + 1;
    Flaky.seen.set(args.n, runs);
    if (runs <= args.failures) throw new Error(`failure ${runs} of job ${args.n}`);
  }
}

let serial = 0;
async function bootApp() {
  const logger = recordingLogger();
  const config = validateConfig(
    {
      workers: { mode: 'BackgroundQueue' },
      queue: { kind: 'Sqlite', uri: `sqlite://${folder}/q${++serial}.sqlite?mode=rwc`, poll_interval_sec: 0.02 },
    },
    'test.yaml',
  );
  const hooks: Hooks = { connectWorkers: (ctx, queue) => queue.register(Flaky.build(ctx)) };
  return { booted: await boot(hooks, { config, root: folder, logger }), logger };
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('completed, retrying and failed reach their handlers with the job, its error and its run time', async () => {
  const { booted } = await bootApp();
  const { ctx } = booted;
  const seen: string[] = [];
  ctx.queue.on('completed', ({ job, durationMs }) => {
    assert.ok(durationMs >= 0);
    seen.push(`completed ${(job.task_data as { n: number }).n} attempt ${job.attempts}`);
  });
  ctx.queue.on('retrying', ({ job, error, runAt }) => {
    assert.ok(runAt >= Date.now() - 1000);
    seen.push(`retrying ${job.name} ${(job.task_data as { n: number }).n}: ${error.split('\n')[0]}`);
  });
  ctx.queue.on('failed', ({ job, error }) => {
    seen.push(`failed ${(job.task_data as { n: number }).n} attempt ${job.attempts}: ${error.split('\n')[0]}`);
  });
  const stop = new AbortController();
  const running = booted.runWorkers({ tags: [], signal: stop.signal });
  try {
    await Flaky.performLater(ctx, { n: 1, failures: 0 });
    await Flaky.performLater(ctx, { n: 2, failures: 1 });
    await Flaky.performLater(ctx, { n: 3, failures: 5 });
    await until(() => seen.length === 5, 'five events');
    assert.equal(seen.sort(), [
      'completed 1 attempt 1',
      'completed 2 attempt 2',
      'failed 3 attempt 2: Error: failure 2 of job 3',
      'retrying Flaky 2: Error: failure 1 of job 2',
      'retrying Flaky 3: Error: failure 1 of job 3',
    ]);
  } finally {
    stop.abort();
    await running;
    await booted.shutdown();
    Flaky.seen.clear();
  }
});

test('a handler that throws or rejects is logged, and the jobs and other handlers go on', async () => {
  const { booted, logger } = await bootApp();
  const { ctx } = booted;
  let completed = 0;
  ctx.queue.on('completed', () => {
    throw new Error('handler broke');
  });
  ctx.queue.on('completed', async () => {
    throw new Error('async handler broke');
  });
  const off = ctx.queue.on('completed', () => {
    completed += 1;
  });
  const stop = new AbortController();
  const running = booted.runWorkers({ tags: [], signal: stop.signal });
  try {
    await Flaky.performLaterMany(
      ctx,
      Array.from({ length: 5 }, (_, n) => ({ n, failures: 0 })),
    );
    await until(() => completed === 5, 'five completions');
    await until(
      async () => (await ctx.queue.backend!.list({})).every((job) => job.status === 'completed'),
      'every job completed: a broken handler fails none',
    );
    await until(
      () => logger.lines.filter((line) => line.includes("queue.on('completed') handler failed")).length === 10,
      'ten logged handler errors',
    );
    assert.ok(logger.lines.some((line) => line.includes('async handler broke')));
    off();
    await Flaky.performLater(ctx, { n: 9, failures: 0 });
    await until(() => Flaky.seen.has(9), 'the job after off()');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.is(completed, 5, 'a removed handler is not called');
  } finally {
    stop.abort();
    await running;
    await booted.shutdown();
    Flaky.seen.clear();
  }
});

test('stalled: the process that finds jobs whose lease ran out is told how many', async () => {
  const { booted } = await bootApp();
  const { ctx } = booted;
  const backend = ctx.queue.backend!;
  const counts: number[] = [];
  ctx.queue.on('stalled', ({ count }) => {
    counts.push(count);
  });
  // Two jobs claimed by a "worker" that then vanishes: their lease runs out after 1 ms.
  await Flaky.performLaterMany(ctx, [
    { n: 20, failures: 0 },
    { n: 21, failures: 0 },
  ]);
  const claimed = await backend.claim({ names: ['Flaky'], tags: [], limit: 2, leaseMs: 1, now: Date.now() });
  assert.is(claimed.length, 2);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const stop = new AbortController();
  const running = booted.runWorkers({ tags: [], signal: stop.signal });
  try {
    await until(() => Flaky.seen.has(20) && Flaky.seen.has(21), 'the stalled jobs to run again');
    assert.equal(counts, [2]);
  } finally {
    stop.abort();
    await running;
    await booted.shutdown();
    Flaky.seen.clear();
  }
});

test('queue.on refuses an unknown event, naming the ones there are', async () => {
  const { booted } = await bootApp();
  try {
    assert.throws(
      () => booted.ctx.queue.on('finished' as 'completed', () => undefined),
      /expected one of the events completed, failed, retrying, stalled, found "finished"/,
    );
  } finally {
    await booted.shutdown();
  }
});

test.run();
