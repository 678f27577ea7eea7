// The outcome writer. Outcomes after a store outage: once the store answers claims again, the outcomes that waited
// are saved at once, not after the writer's backoff, while the loop goes on claiming and running
// jobs whose leases would run out meanwhile (each such job would run twice).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BackgroundWorker,
  type JobOutcome,
  type QueueBackend,
  runWorkerLoop,
  silentLogger,
} from '../runtime/src/internals.js';
import { OutcomeWriter } from '../runtime/src/outcome-writer.js';
import { completedOutcome, openStore, sleep, testContext, testStoreConfig, waitUntil } from './queue/helpers.js';

/** The calls that fail while the store is down, as a dropped connection makes them fail. */
const STORE_CALLS = new Set(['claim', 'finish', 'heartbeat', 'reapExpired', 'enqueue', 'stats']);

/** The store behind a switch: while `down.value`, its calls fail as against a stopped server. */
function switchable(backend: QueueBackend, down: { value: boolean }): QueueBackend {
  return new Proxy(backend, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== 'function') return value;
      if (!STORE_CALLS.has(String(property))) return value.bind(target);
      return (...args: unknown[]) =>
        down.value ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')) : value.apply(target, args);
    },
  });
}

const runs = new Map<number, number>();
class CountedWorker extends BackgroundWorker<{ n: number }> {
  async perform(args: { n: number }): Promise<void> {
    await sleep(5);
    runs.set(args.n, (runs.get(args.n) ?? 0) + 1);
  }
}

test('after an outage, waiting outcomes are saved once claims go through again: few jobs run twice', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loco-outcome-writer-'));
  const store = await openStore(testStoreConfig({ kind: 'Sqlite', uri: `sqlite://${dir}/queue.sqlite?mode=rwc` }));
  const down = { value: false };
  const backend = switchable(store, down);
  const ctx = testContext(backend);
  ctx.queue.register(CountedWorker.build(ctx));
  const jobs = 3000;
  await ctx.queue.enqueueByName(
    'CountedWorker',
    Array.from({ length: jobs }, (_, n) => ({ n })),
  );
  const stop = new AbortController();
  const concurrency = 4;
  const loop = runWorkerLoop({
    backend,
    registry: ctx.queue.registry,
    concurrency,
    pollIntervalMs: 50,
    leaseMs: 1000,
    tags: [],
    signal: stop.signal,
    logger: silentLogger,
  });
  try {
    await waitUntil(() => runs.size >= 100, 10_000);
    // Down for 3.5 leases: the writer's backoff grows past a lease meanwhile (its tries come at
    // 0.2, 0.6, 1.4 and 3 s, the next one 3.2 s later).
    down.value = true;
    await sleep(3500);
    down.value = false;
    const completed = async () =>
      (await store.stats()).filter((row) => row.status === 'completed').reduce((sum, row) => sum + row.count, 0);
    await waitUntil(async () => (await completed()) === jobs, 60_000);
  } finally {
    stop.abort();
    await loop;
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const twice = [...runs.values()].filter((count) => count > 1).length;
  assert.is(runs.size, jobs);
  // Jobs running or waiting for their outcome when the store went down lose their lease during
  // the outage and may run again; none claimed after it came back may.
  assert.ok(twice <= 2 * concurrency, `${twice} jobs ran twice; expected at most ${2 * concurrency}`);
});

test('outcomes carried by a claim that failed are written by the writer (claims take none until it has written); those a claim saved are not written again', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loco-outcome-writer-'));
  const store = await openStore(testStoreConfig({ kind: 'Sqlite', uri: `sqlite://${dir}/queue.sqlite?mode=rwc` }));
  const finished: string[][] = [];
  const backend = new Proxy(store, {
    get(target, property) {
      if (property !== 'finish') return Reflect.get(target, property);
      return (outcomes: JobOutcome[]) => {
        finished.push(outcomes.map((outcome) => outcome.id));
        return target.finish(outcomes);
      };
    },
  });
  try {
    const ctx = testContext(backend);
    ctx.queue.register(CountedWorker.build(ctx));
    await ctx.queue.enqueueByName('CountedWorker', [{ n: 1 }, { n: 2 }]);
    const [first, second] = await backend.claim({
      names: ['CountedWorker'],
      tags: [],
      limit: 2,
      leaseMs: 5000,
      now: Date.now() + 1,
    });
    const writer = new OutcomeWriter(backend, silentLogger);
    writer.add(completedOutcome({ ...first, name: 'CountedWorker' }));
    const saved = writer.takeForClaim();
    assert.is(writer.unrecorded, 1, 'an outcome riding on a claim is not recorded yet');
    assert.equal(writer.heldIds(), [first.id], 'and its job stays leased (heartbeats)');
    writer.claimEnded(saved, true);
    assert.equal(writer.heldIds(), [], 'saved by the claim: no longer held');
    writer.add(completedOutcome({ ...second, name: 'CountedWorker' }));
    const lost = writer.takeForClaim();
    writer.claimEnded(lost, false);
    assert.is(writer.unrecorded, 1);
    assert.equal(writer.heldIds(), [second.id], 'an outcome a failed claim carried is still held');
    assert.equal(writer.takeForClaim(), [], 'after a failed claim, outcomes wait for the writer');
    await writer.flushed();
    assert.is(writer.unrecorded, 0);
    assert.equal(writer.heldIds(), []);
    assert.equal(finished, [[second.id]], 'only the outcome of the failed claim was written');
    assert.is((await store.get(second.id))?.status, 'completed');
    writer.add(completedOutcome({ ...first, name: 'CountedWorker' }));
    assert.is(writer.takeForClaim().length, 1, 'once a write went through, claims carry outcomes again');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
