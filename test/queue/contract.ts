// The backend contract: one suite that every queue backend's test file runs, so that the
// in-process, SQLite, Postgres and Redis queues behave the same.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { formatDump, parseDump } from '../../runtime/src/cli/jobs/dump-format.js';
import {
  type AppContext,
  ArgsError,
  BackgroundWorker,
  type JobOutcome,
  type JobRecord,
  LEASE_EXPIRED_ERROR,
  LocoError,
  type QueueBackend,
  type RetryPolicy,
  runWorkerLoop,
  type StoreConfig,
  silentLogger,
  type WorkerInstance,
} from '../../runtime/src/internals.js';
import { MAX_ATTEMPTS, MAX_KEY_LENGTH, MAX_RUN_AT, MAX_TAGS } from '../../runtime/src/job-limits.js';
import { OutcomeWriter } from '../../runtime/src/outcome-writer.js';
import {
  FLOW_WORKERS,
  type FlowRecord,
  PacedWorker,
  PlainFlowWorker,
  SlotWorker,
  TenantWorker,
} from '../fixtures/flow-workers.js';
import type { TestStore } from '../stores.js';
import {
  CapitalEmailWorker,
  calls,
  completedOutcome,
  EchoWorker,
  EmailWorker,
  exited,
  FlakyWorker,
  failedOutcome,
  KeyedEchoWorker,
  openStore,
  RejectsNothingWorker,
  ReportWorker,
  recordingLogger,
  retryOutcome,
  runEnqueueProcess,
  runUntil,
  SlowWorker,
  sleep,
  spawnWorkerProcess,
  testContext,
  testStoreConfig,
  UrgentWorker,
  waitUntil,
  withCalls,
  withFinish,
} from './helpers.js';

/** The most jobs running at one instant, from their start and end times. */
function maxOverlap(records: FlowRecord[]): number {
  const events = records.flatMap((record) => [
    [record.start, 1],
    [record.end, -1],
  ]);
  // An end and a start at the same ms: the end first.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, delta] of events) {
    now += delta;
    most = Math.max(most, now);
  }
  return most;
}

/** How the contract reaches one backend. */
export interface BackendUnderTest {
  name: string;
  /** A backend on a fresh, empty store of its own (schema, key prefix or file), initialised. */
  open(): Promise<QueueBackend>;
  /** Another connection to the store of the last `open()` (stores that are `shared` only). */
  openAnother(): Promise<QueueBackend>;
  /** The store as a `queue:` config, for child worker processes (stores that are `shared` only). */
  queueConfig(): StoreConfig;
  /** Removes what `open()` created. */
  cleanup(): Promise<void>;
}

/** The contract's view of a real store: each `open()` takes a fresh one, with `num_workers: 4`. */
export function backendUnderTest(store: TestStore): BackendUnderTest {
  const config = (): StoreConfig => testStoreConfig({ kind: store.kind, uri: store.uri(), num_workers: 4 });
  return {
    name: store.name,
    open: () => {
      store.fresh();
      return openStore(config());
    },
    openAnother: () => openStore(config()),
    queueConfig: config,
    cleanup: () => store.drop(),
  };
}

export function runContract(target: BackendUnderTest): void {
  const test = suite(`contract: ${target.name}`);
  let backend: QueueBackend;
  let ctx: AppContext;
  const extra: QueueBackend[] = [];

  const register = (...workers: Array<{ build(ctx: AppContext): WorkerInstance<never> }>) => {
    for (const worker of workers) ctx.queue.register(worker.build(ctx));
  };
  const job = async (id: string): Promise<JobRecord> => {
    const [found] = (await backend.list({})).filter((row) => row.id === id);
    assert.ok(found, `job ${id} exists`);
    return found;
  };
  /** Cases that need other processes or connections on the same store, skipped (with a line saying so) where the store is not shared. */
  const unshared = (name: string): boolean => {
    if (backend.capabilities.shared) return false;
    console.log(
      `  (${target.name}: skipped "${name}": the store lives in one process, so no other process or connection can reach it)`,
    );
    return true;
  };

  test.before.each(async () => {
    calls.reset();
    backend = await target.open();
    ctx = testContext(backend);
  });
  test.after.each(async () => {
    for (const other of extra.splice(0)) await other.close();
    await backend.close();
    await target.cleanup();
  });

  test('enqueue, claim and complete: args round-trip, the job ends completed', async () => {
    register(EchoWorker);
    const id = await EchoWorker.performLater(ctx, { n: 1, text: 'héllo ✓' });
    assert.type(id, 'string');
    const queued = await job(id!);
    assert.is(queued.status, 'queued');
    assert.is(queued.name, 'EchoWorker');
    assert.equal(queued.task_data, { n: 1, text: 'héllo ✓' });
    await runUntil(ctx, () => calls.count() === 1);
    await sleep(50);
    assert.equal(calls.seen, [{ name: 'EchoWorker', args: { n: 1, text: 'héllo ✓' } }]);
    const done = await job(id!);
    assert.is(done.status, 'completed');
    assert.is(done.attempts, 1);
  });

  test('a second init of one backend is refused, saying so, and flushes nothing; the store works on', async () => {
    register(EchoWorker);
    const id = await EchoWorker.performLater(ctx, { n: 1 });
    const refused = await backend.init({ flush: true }).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.instance(refused, LocoError);
    assert.match((refused as Error).message, `The ${backend.kind} queue at ${backend.display} was already initialised`);
    assert.match((refused as Error).message, 'create another backend');
    assert.is((await job(id!)).status, 'queued');
    await runUntil(ctx, () => calls.count() === 1);
    await waitUntil(async () => (await job(id!)).status === 'completed', 10_000);
  });

  test('claims are FIFO, limited, and hand each job out once', async () => {
    register(EchoWorker);
    const ids = (await EchoWorker.performLaterMany(ctx, [{ n: 1 }, { n: 2 }, { n: 3 }])).map((result) => result.id);
    const request = { names: ['EchoWorker'], tags: [], limit: 2, leaseMs: 5000, now: Date.now() + 1 };
    const first = await backend.claim(request);
    assert.equal(
      first.map((row) => row.id),
      ids.slice(0, 2),
    );
    const second = await backend.claim(request);
    assert.equal(
      second.map((row) => row.id),
      ids.slice(2),
    );
    assert.equal(await backend.claim(request), []);
  });

  test('a failing job is retried with backoff, then ends failed with its error and args kept', async () => {
    register(FlakyWorker);
    const id = await FlakyWorker.performLater(ctx, { n: 7 });
    await runUntil(ctx, async () => (await job(id!)).status === 'failed');
    const failed = await job(id!);
    assert.is(failed.status, 'failed');
    assert.is(failed.attempts, 2);
    assert.is(failed.max_attempts, 2);
    assert.match(failed.last_error ?? '', 'flaky failure 7');
    assert.equal(failed.task_data, { n: 7 });
    assert.is(calls.count('FlakyWorker'), 2);
  });

  test('a job that rejects with no Error ends failed with a description, and the loop goes on', async () => {
    register(RejectsNothingWorker, EchoWorker);
    const bad = (await RejectsNothingWorker.performLater(ctx, { n: 1 }))!;
    await runUntil(ctx, async () => (await job(bad)).status === 'failed');
    assert.match((await job(bad)).last_error ?? '', 'undefined (thrown without an Error)');
    const good = (await EchoWorker.performLater(ctx, { n: 2 }))!;
    await runUntil(ctx, async () => (await job(good)).status === 'completed');
    assert.is((await job(good)).status, 'completed');
  });

  test('a job requeued by an operator while it runs runs again; the loop waits for both runs and keeps the newer outcome', async () => {
    register(SlowWorker);
    // A second's run, so that the requeue below (a read and a write after the job was seen
    // processing) comes while it runs even on a loaded machine.
    const id = (await SlowWorker.performLater(ctx, { ms: 1000 }))!;
    const stop = new AbortController();
    const loop = runWorkerLoop({
      backend,
      registry: ctx.queue.registry,
      concurrency: 2,
      pollIntervalMs: 20,
      leaseMs: 5000,
      tags: [],
      signal: stop.signal,
      logger: silentLogger,
    });
    while ((await job(id)).status !== 'processing') await sleep(5);
    assert.is(await backend.requeue(Date.now() + 1), 1);
    while ((await job(id)).attempts < 2 || calls.slowStarted < 2) await sleep(5);
    stop.abort();
    await loop;
    assert.is(calls.count('SlowWorker'), 2, 'both runs finished before the loop resolved');
    const done = await job(id);
    assert.is(done.status, 'completed');
    assert.is(done.attempts, 2);
  });

  test('a delayed job waits for its time', async () => {
    register(EchoWorker);
    const start = Date.now();
    const id = await EchoWorker.performLater(ctx, { n: 1 }, { delay: '300ms' });
    assert.ok((await job(id!)).run_at >= start + 300);
    // A claim just before its time (the enqueue and the read above may take 300 ms on a loaded
    // machine, so not Date.now()) does not take it.
    assert.equal(
      await backend.claim({ names: ['EchoWorker'], tags: [], limit: 5, leaseMs: 5000, now: start + 299 }),
      [],
    );
    await runUntil(ctx, () => calls.count() === 1);
    assert.ok(Date.now() - start >= 300, 'ran after the delay');
    const runAtId = await EchoWorker.performLater(ctx, { n: 2 }, { runAt: new Date(Date.now() + 60_000) });
    assert.is((await job(runAtId!)).status, 'queued');
  });

  test('an interval job is queued again after each success', async () => {
    register(EchoWorker);
    const id = await EchoWorker.performLater(ctx, { n: 1 }, { interval: '100ms' });
    await runUntil(ctx, () => calls.count() >= 2);
    assert.ok(calls.count() >= 2, 'ran at least twice');
    const after = await job(id!);
    assert.ok(after.status === 'queued' || after.status === 'processing');
    assert.is(after.interval, 100);
  });

  test('tag rules 1-4: untagged process, tagged processes, exact and case-sensitive', async () => {
    register(EchoWorker, EmailWorker, CapitalEmailWorker, ReportWorker);
    const plain = await EchoWorker.performLater(ctx, { n: 1 });
    const email = await EmailWorker.performLater(ctx, { n: 2 });
    const capital = await CapitalEmailWorker.performLater(ctx, { n: 3 });
    const report = await ReportWorker.performLater(ctx, { n: 4 });
    const names = ['EchoWorker', 'EmailWorker', 'CapitalEmailWorker', 'ReportWorker'];
    const claim = async (tags: string[]) =>
      (await backend.claim({ names, tags, limit: 10, leaseMs: 5000, now: Date.now() + 1 })).map((row) => row.id).sort();

    assert.equal(
      await claim(['e%', '%', '_mail', 'EMAIL', 'email ']),
      [],
      'rule 4: no wildcard, case or prefix matches',
    );
    assert.equal(await claim([]), [plain], 'rule 1 (and 3): no tags takes only untagged jobs');
    assert.equal(await claim(['email']), [email], 'rule 2 and 4: email, not Email');
    assert.equal(await claim(['analytics', 'report']), [report], 'rule 2: at least one matching tag');
    assert.equal(await claim(['Email']), [capital]);
    assert.equal((await job(report!)).tags, ['report', 'pdf']);
  });

  test('jobs with no registered worker are left queued, untouched', async () => {
    register(EchoWorker);
    const ghost = await ctx.queue.enqueueByName('GhostWorker', [{ n: 1 }]);
    await EchoWorker.performLater(ctx, { n: 2 });
    await runUntil(ctx, () => calls.count() === 1);
    await sleep(100);
    const left = await job(ghost[0].id!);
    assert.is(left.status, 'queued');
    assert.is(left.attempts, 0);
  });

  test('args that cannot round-trip through JSON are refused and nothing is written', async () => {
    register(EchoWorker);
    const cyclic: Record<string, unknown> = { n: 1 };
    cyclic.self = cyclic;
    for (const bad of [{ n: 10n }, { n: () => 1 }, cyclic, { n: new Date() }, { n: [undefined] }, { n: NaN }]) {
      try {
        await EchoWorker.performLaterMany(ctx, [{ n: 1 }, bad as never]);
        assert.unreachable('should refuse');
      } catch (err) {
        assert.instance(err, ArgsError);
        assert.match((err as Error).message, /EchoWorker: cannot enqueue: args\.n|args\.self/);
      }
    }
    assert.equal(await backend.list({}), []);
  });

  test('args nested more than 100 levels or over 1 MiB of JSON are refused, saying the limit; nothing is written', async () => {
    register(EchoWorker);
    const nested = (levels: number): unknown => {
      let value: unknown = 1;
      for (let i = 0; i < levels; i++) value = i % 2 ? [value] : { a: value };
      return value;
    };
    const refusals: Array<[string, unknown, RegExp]> = [
      [
        '101 levels',
        nested(101),
        /args are nested more than 100 levels deep \(at args[.a[\]0]+\.\.\.\)\. Flatten them/,
      ],
      ['10,000 levels', nested(10_000), /args are nested more than 100 levels deep/],
      [
        '1 MiB of text and a little more',
        { s: 'x'.repeat(1024 * 1024) },
        /the args are 1048584 bytes \(1\.0 MiB\) as JSON, over the limit of 1 MiB \(queue\.max_args_bytes\)/,
      ],
      [
        '600,000 two-byte characters',
        { s: 'é'.repeat(600_000) },
        /the args are 1200008 bytes .* over the limit of 1 MiB/,
      ],
    ];
    for (const [what, args, expected] of refusals) {
      try {
        await EchoWorker.performLaterMany(ctx, [{ n: 1 }, args as never]);
        assert.unreachable(`${what}: should be refused`);
      } catch (err) {
        assert.instance(err, ArgsError, what);
        assert.match((err as Error).message, expected, what);
        assert.match((err as Error).message, /^EchoWorker: cannot enqueue: .*Nothing was enqueued\.$/, what);
      }
    }
    assert.equal(await backend.list({}), []);

    const deepest = nested(100);
    const biggest = { s: 'é'.repeat(1024 * 512 - 8) };
    const ids = (await EchoWorker.performLaterMany(ctx, [deepest as never, biggest as never])).map(
      (result) => result.id!,
    );
    assert.equal((await job(ids[0])).task_data, deepest, '100 levels are kept');
    assert.equal((await job(ids[1])).task_data, biggest, 'exactly 1 MiB is kept');
    const entries = parseDump(formatDump(await backend.list({})), 'dump.yaml', ['EchoWorker']);
    assert.equal(
      entries.map((entry) => entry.task_data),
      [deepest, biggest],
      'they dump and parse back',
    );
  });

  test('times, attempts, tags and queues past what every store holds are refused at enqueue; nothing is written', async () => {
    register(EchoWorker);
    const refusals: Array<[string, () => Promise<unknown>, RegExp]> = [
      [
        'a delay past year 9999',
        () => EchoWorker.performLater(ctx, { n: 1 }, { delay: 9_000_000_000_000_000 }),
        /EchoWorker: cannot enqueue: run_at: \d+ ms since the epoch is after 9999-12-31T23:59:59\.999Z, the latest time the stores and the dump format hold/,
      ],
      [
        'a delay of 1e20 ms',
        () => EchoWorker.performLater(ctx, { n: 1 }, { delay: 1e20 }),
        /run_at: .* is after 9999-12-31T23:59:59\.999Z/,
      ],
      [
        'the latest Date there is',
        () => EchoWorker.performLater(ctx, { n: 1 }, { runAt: new Date(8.64e15) }),
        /run_at: 8640000000000000 ms since the epoch is after 9999-12-31/,
      ],
      [
        'a time before year 0',
        () => EchoWorker.performLater(ctx, { n: 1 }, { runAt: -8.64e15 }),
        /run_at: .* is before 0000-01-01T00:00:00\.000Z/,
      ],
      [
        'an interval of 40000 days',
        () => EchoWorker.performLater(ctx, { n: 1 }, { interval: '40000d' }),
        /interval: expected more than 0 and at most 3153600000000 ms \(36500 days\)/,
      ],
      [
        'max_attempts 2^53 - 1',
        () => ctx.queue.enqueueByName('EchoWorker', [{ n: 1 }], { maxAttempts: Number.MAX_SAFE_INTEGER }),
        /max_attempts: expected a whole number from 1 to 2147483647 \(the largest a Postgres integer holds\), found number 9007199254740991/,
      ],
      [
        'max_attempts 2.5',
        () => ctx.queue.enqueueByName('EchoWorker', [{ n: 1 }], { maxAttempts: 2.5 }),
        /max_attempts: expected a whole number from 1 to 2147483647/,
      ],
      [
        'a NUL in a tag',
        () => ctx.queue.enqueueByName('EchoWorker', [{ n: 1 }], { tags: ['ok', 'a\u0000b'] }),
        /tags: tag 2: "a\\u0000b" contains a NUL character \(\\u0000\), which Postgres cannot store/,
      ],
      [
        'a lone surrogate in a tag',
        () => ctx.queue.enqueueByName('EchoWorker', [{ n: 1 }], { tags: ['\ud800'] }),
        /tags: tag 1: .* contains a lone UTF-16 surrogate/,
      ],
      [
        'an empty tag',
        () => ctx.queue.enqueueByName('EchoWorker', [{ n: 1 }], { tags: [''] }),
        /tags: tag 1: expected a non-empty string/,
      ],
      [
        'a tag of 256 characters',
        () => ctx.queue.enqueueByName('EchoWorker', [{ n: 1 }], { tags: ['t'.repeat(256)] }),
        /tags: tag 1: expected at most 255 characters, found 256/,
      ],
      [
        `${MAX_TAGS + 1} tags`,
        () =>
          ctx.queue.enqueueByName('EchoWorker', [{ n: 1 }], {
            tags: Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`),
          }),
        /tags: expected at most 100 tags, found 101/,
      ],
      [
        'a NUL in a queue name',
        () => ctx.queue.enqueueByName('EchoWorker', [{ n: 1 }], { queue: 'q\u0000' }),
        /queue: "q\\u0000" contains a NUL character/,
      ],
    ];
    for (const [what, enqueue, expected] of refusals) {
      try {
        await enqueue();
        assert.unreachable(`${what}: should be refused`);
      } catch (err) {
        assert.instance(err, RangeError, what);
        assert.match((err as Error).message, expected, what);
        assert.match((err as Error).message, /Nothing was enqueued\.$/, what);
      }
    }
    assert.equal(await backend.list({}), []);
  });

  test('jobs at the bounds are stored as given, listed, and dump and parse back', async () => {
    register(EchoWorker);
    const tags = Array.from({ length: MAX_TAGS }, (_, i) => `${i}-${'é✓😀'.repeat(80)}`.slice(0, 255));
    const [{ id: latest }] = await ctx.queue.enqueueByName('EchoWorker', [{ n: 1 }], {
      runAt: MAX_RUN_AT,
      interval: '36500d',
      tags,
      queue: 'q'.repeat(255),
      maxAttempts: MAX_ATTEMPTS,
    });
    const fractional = (await EchoWorker.performLater(ctx, { n: 2 }, { delay: 0.5 }))!;
    const stored = await job(latest!);
    assert.is(stored.run_at, MAX_RUN_AT);
    assert.is(stored.interval, 36_500 * 86_400_000);
    assert.equal(stored.tags, tags);
    assert.is(stored.queue, 'q'.repeat(255));
    assert.is(stored.max_attempts, MAX_ATTEMPTS);
    assert.ok(Number.isInteger((await job(fractional)).run_at), 'a delay of 0.5 ms gives a whole ms');
    const text = formatDump(await backend.list({}));
    const entries = parseDump(text, 'dump.yaml', ['EchoWorker']);
    assert.is(entries[0].run_at, MAX_RUN_AT);
    assert.equal(entries[0].tags, tags);
    assert.is(entries[0].max_attempts, MAX_ATTEMPTS);
  });

  test('an error holding a NUL or half a surrogate pair is stored on every store, as \\0 and U+FFFD', async () => {
    class GarbledErrorWorker extends BackgroundWorker<{ n: number }> {
      static override retry(): RetryPolicy {
        return { attempts: 1, backoffMs: 0, maxBackoffMs: 0 };
      }
      async perform(): Promise<void> {
        throw new Error('bad\u0000byte \ud800 end');
      }
    }
    register(GarbledErrorWorker);
    const id = (await GarbledErrorWorker.performLater(ctx, { n: 1 }))!;
    await runUntil(ctx, async () => (await job(id)).status === 'failed');
    const failed = await job(id);
    assert.is(failed.status, 'failed');
    assert.match(failed.last_error ?? '', 'Error: bad\\0byte \ufffd end');
  });

  test('an outcome from a stale attempt is ignored (fencing by attempt)', async () => {
    register(EchoWorker);
    const id = (await EchoWorker.performLater(ctx, { n: 1 }))!;
    const [claimed] = await backend.claim({
      names: ['EchoWorker'],
      tags: [],
      limit: 1,
      leaseMs: 1,
      now: Date.now() + 1,
    });
    await sleep(20);
    assert.is(await backend.reapExpired(Date.now() + 10), 1);
    const [again] = await backend.claim({
      names: ['EchoWorker'],
      tags: [],
      limit: 1,
      leaseMs: 5000,
      now: Date.now() + 20,
    });
    assert.is(again.attempts, 2);
    await backend.finish([failedOutcome(claimed, 'stale')]);
    assert.is((await job(id)).status, 'processing');
    await backend.finish([completedOutcome(claimed)]);
    assert.is((await job(id)).status, 'processing', 'a success of the stale attempt is ignored too');
    await backend.finish([completedOutcome(again)]);
    assert.is((await job(id)).status, 'completed');
  });

  test('a claim records the outcomes it carries first, fenced by attempt like `finish`', async () => {
    register(EchoWorker);
    const [first, second, third] = (await EchoWorker.performLaterMany(ctx, [{ n: 1 }, { n: 2 }, { n: 3 }])).map(
      (added) => added.id!,
    );
    const claimOf = (limit: number, finish?: JobOutcome[]) =>
      backend.claim({ names: ['EchoWorker'], tags: [], limit, leaseMs: 5000, now: Date.now() + 1, finish });
    const [a] = await claimOf(1);
    assert.is(a.id, first);
    const [b] = await claimOf(1, [completedOutcome(a)]);
    assert.is(b.id, second, 'the next job was claimed');
    assert.is((await job(first)).status, 'completed', 'and the outcome it carried was recorded');
    // A retry carried by a claim is due again at once, and that claim may take it.
    const retried = await claimOf(5, [retryOutcome(b, 'flaky', Date.now() - 1), completedOutcome(a)]);
    assert.equal(retried.map((row) => row.id).sort(), [second, third].sort(), 'the retried job and the last one');
    assert.is(retried.find((row) => row.id === second)?.attempts, 2);
    assert.is((await job(first)).attempts, 1, 'the second outcome of the first job was fenced out');
    assert.equal(await claimOf(5, [failedOutcome(b, 'stale')]), []);
    assert.is((await job(second)).status, 'processing', 'an outcome of an attempt that is over changes nothing');
  });

  test('a job whose lease ran out keeps its place (run_at, priority, order) and says why it came back', async () => {
    register(EchoWorker);
    const [first, second] = (await EchoWorker.performLaterMany(ctx, [{ n: 1 }, { n: 2 }])).map((r) => r.id!);
    const urgent = (await EchoWorker.performLater(ctx, { n: 3 }, { priority: 5 }))!;
    const before = await job(first);
    const claim = (limit: number, leaseMs: number, now: number) =>
      backend.claim({ names: ['EchoWorker'], tags: [], limit, leaseMs, now });
    const [u, f] = await claim(2, 1, Date.now() + 1);
    assert.equal([u.id, f.id], [urgent, first]);
    await sleep(20);
    // Later jobs queued meanwhile must not overtake the ones coming back.
    const later = (await EchoWorker.performLater(ctx, { n: 4 }))!;
    assert.is(await backend.reapExpired(Date.now() + 10), 2);
    const back = await job(first);
    assert.is(back.status, 'queued');
    assert.is(back.run_at, before.run_at, 'its original run_at, not the reap time');
    assert.is(back.last_error, LEASE_EXPIRED_ERROR, 'why it came back');
    assert.is((await job(urgent)).priority, 5);
    const again = await claim(4, 5000, Date.now() + 20);
    assert.equal(
      again.map((row) => row.id),
      [urgent, first, second, later],
      'higher priority first, then its place among the others',
    );
  });

  test('operator verbs: list, stats, cancel, remove and requeue, with their time bounds', async () => {
    register(EchoWorker, ReportWorker);
    const [e1, e2, e3] = (await EchoWorker.performLaterMany(ctx, [{ n: 1 }, { n: 2 }, { n: 3 }])).map(
      (result) => result.id!,
    );
    const delayed = (await EchoWorker.performLater(ctx, { n: 4 }, { delay: '1m' }))!;
    const [r1, r2] = (await ReportWorker.performLaterMany(ctx, [{ n: 5 }, { n: 6 }])).map((result) => result.id!);
    await sleep(5);
    const claimed = await backend.claim({
      names: ['EchoWorker'],
      tags: [],
      limit: 2,
      leaseMs: 60_000,
      now: Date.now(),
    });
    assert.equal(
      claimed.map((row) => row.id),
      [e1, e2],
    );
    await sleep(5);
    await backend.finish([completedOutcome(claimed[0])]);
    const ids = (rows: JobRecord[]) => rows.map((row) => row.id);

    assert.equal(ids(await backend.list({})), [e1, e2, e3, delayed, r1, r2], 'oldest first');
    assert.equal(ids(await backend.list({ statuses: ['processing'] })), [e2]);
    assert.equal(ids(await backend.list({ statuses: ['queued'], name: 'EchoWorker' })), [e3, delayed]);
    assert.equal(ids(await backend.list({ name: 'ReportWorker' })), [r1, r2]);
    assert.equal(ids(await backend.list({ limit: 2 })), [r2, r1], 'newest first when limited');
    const completedAt = (await job(e1)).updated_at;
    assert.not.ok(ids(await backend.list({ updatedBefore: completedAt })).includes(e1), 'list: updated_at < bound');
    assert.ok(ids(await backend.list({ updatedBefore: completedAt + 1 })).includes(e1));
    const counts = async () => (await backend.stats()).map((row) => `${row.name} ${row.status} ${row.count}`).sort();
    assert.equal(await counts(), [
      'EchoWorker completed 1',
      'EchoWorker processing 1',
      'EchoWorker queued 2',
      'ReportWorker queued 2',
    ]);

    assert.is(await backend.cancel('ReportWorker'), 2);
    assert.is(await backend.cancel('ReportWorker'), 0, 'only queued jobs are cancelled');
    assert.is((await job(r1)).status, 'cancelled');

    const processingAt = (await job(e2)).updated_at;
    assert.is(await backend.requeue(processingAt - 1), 0, 'requeue: updated_at <= bound');
    assert.is(await backend.requeue(processingAt), 1);
    const requeued = await job(e2);
    assert.is(requeued.status, 'queued');
    assert.is(requeued.lease_until, null);

    assert.is(
      await backend.remove({ statuses: ['cancelled'], ids: [r1, e3] }),
      1,
      'only the ids given, in the statuses given',
    );
    assert.is(
      await backend.remove({ statuses: ['completed'], updatedBefore: completedAt }),
      0,
      'remove: updated_at < bound',
    );
    assert.is(await backend.remove({ statuses: ['completed', 'cancelled'] }), 2);
    assert.equal(await counts(), ['EchoWorker queued 3']);
    assert.equal(ids(await backend.list({})), [e2, e3, delayed]);
  });

  test('a job running for 3x its lease is not reaped while its heartbeats go on', async () => {
    register(SlowWorker);
    // Heartbeats every third of the lease: one may come up to 2/3 of a lease (667 ms) late, as on
    // a loaded machine, before the reaper could take the job back.
    const id = (await SlowWorker.performLater(ctx, { ms: 3000 }))!;
    await runUntil(ctx, () => calls.count('SlowWorker') === 1, { leaseMs: 1000 });
    const done = await job(id);
    assert.is(done.status, 'completed');
    assert.is(done.attempts, 1, 'claimed once: the reaper never took it back');
  });

  test('a job whose outcome waits for a stalled write keeps its lease: a reaper elsewhere does not bring it back', async () => {
    register(EchoWorker);
    const id = (await EchoWorker.performLater(ctx, { n: 1 }))!;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let writes = 0;
    // The store as the loop sees it: every outcome goes through `finish`, whose first write stalls.
    const stalled = withFinish(backend, async (outcomes) => {
      if (writes++ === 0) await released;
      await backend.finish(outcomes);
    });
    const stop = new AbortController();
    const loop = runWorkerLoop({
      backend: stalled,
      registry: ctx.queue.registry,
      concurrency: 1,
      pollIntervalMs: 50,
      // Heartbeats every 400 ms: one may come 800 ms late before the lease runs out.
      leaseMs: 1200,
      tags: [],
      signal: stop.signal,
      logger: silentLogger,
    });
    try {
      while (calls.count('EchoWorker') === 0 || writes === 0) await sleep(5);
      // Three leases' time, with a reaper in another process looking every 100 ms.
      const until = Date.now() + 3600;
      let reaped = 0;
      while (Date.now() < until) {
        reaped += await backend.reapExpired(Date.now());
        await sleep(100);
      }
      assert.is(reaped, 0, 'the lease was kept while the outcome waited');
      assert.is((await job(id)).status, 'processing', 'not written yet');
    } finally {
      release();
      stop.abort();
      await loop;
    }
    const done = await job(id);
    assert.is(done.status, 'completed');
    assert.is(done.attempts, 1);
    assert.is(calls.count('EchoWorker'), 1, 'it ran once');
  });

  test('outcome writes: a failed batch is retried, then written one at a time; one the store keeps refusing is given up', async () => {
    register(EchoWorker);
    const ids = (await EchoWorker.performLaterMany(ctx, [{ n: 1 }, { n: 2 }, { n: 3 }])).map((result) => result.id!);
    const claimed = await backend.claim({
      names: ['EchoWorker'],
      tags: [],
      limit: 3,
      leaseMs: 60_000,
      now: Date.now(),
    });
    const poison = claimed[1].id;
    const writes: number[] = [];
    let hiccups = 2;
    const flaky = withFinish(backend, async (outcomes) => {
      writes.push(outcomes.length);
      if (hiccups-- > 0) throw new Error('the store hiccupped');
      if (outcomes.some((outcome) => outcome.id === poison)) throw new Error('the store refuses this one');
      await backend.finish(outcomes);
    });
    const lines: string[] = [];
    const writer = new OutcomeWriter(flaky, recordingLogger(lines), { baseMs: 1, maxMs: 8 });
    for (const row of claimed) writer.add(completedOutcome(row));
    await writer.flushed();
    assert.is(writes[0], 3, 'the first write takes the whole batch');
    assert.ok(writes.includes(1), 'after repeated failures, outcomes go one at a time');
    assert.is((await job(ids[0])).status, 'completed');
    assert.is((await job(ids[2])).status, 'completed', 'the refused outcome did not hold back the others');
    assert.is((await job(poison)).status, 'processing', 'given up: its lease brings it back');
    assert.equal(writer.heldIds(), [], 'no heartbeat keeps the lease of the outcome given up');
    assert.ok(
      lines.some((line) => line.includes(`Gave up saving the outcome of job ${poison}`)),
      lines.join('\n'),
    );
  });

  test('unique keys: a queued job with the key is kept (its id returned) or replaced; nothing is added', async () => {
    register(EchoWorker);
    const first = (await EchoWorker.performLater(ctx, { n: 1 }, { key: 'report-42' }))!;
    const kept = await EchoWorker.performLater(ctx, { n: 2 }, { key: 'report-42' });
    assert.is(kept, first, "keep: the queued job's id");
    assert.equal((await job(first)).task_data, { n: 1 }, 'keep: nothing changed');
    const runAt = Date.now() + 60_000;
    const replaced = await EchoWorker.performLater(ctx, { n: 3 }, { key: 'report-42', onConflict: 'replace', runAt });
    assert.is(replaced, first, 'replace: same id');
    const record = await job(first);
    assert.equal(record.task_data, { n: 3 });
    assert.is(record.run_at, runAt);
    assert.is(record.key, 'report-42');
    const other = await EchoWorker.performLater(ctx, { n: 4 }, { key: 'report-43' });
    assert.is.not(other, first, 'another key is another job');
    assert.equal(
      (await backend.list({ statuses: ['queued'] })).map((row) => row.id),
      [first, other],
    );
  });

  test('unique keys: a key held by a running job passes to a new job; a finished job frees it', async () => {
    register(EchoWorker);
    const running = (await EchoWorker.performLater(ctx, { n: 1 }, { key: 'sync' }))!;
    const [claimed] = await backend.claim({
      names: ['EchoWorker'],
      tags: [],
      limit: 1,
      leaseMs: 60_000,
      now: Date.now() + 1,
    });
    assert.is(claimed.id, running);
    const next = (await EchoWorker.performLater(ctx, { n: 2 }, { key: 'sync' }))!;
    assert.is.not(next, running, 'a change made after the job started is not lost');
    assert.is((await job(running)).key, null, 'the running job gave its key up');
    assert.is((await job(next)).key, 'sync');
    await backend.finish([completedOutcome(claimed)]);
    assert.is(await EchoWorker.performLater(ctx, { n: 3 }, { key: 'sync' }), next, 'still queued: matched');
    const [second] = await backend.claim({
      names: ['EchoWorker'],
      tags: [],
      limit: 1,
      leaseMs: 60_000,
      now: Date.now() + 1,
    });
    await backend.finish([completedOutcome(second)]);
    const fresh = await EchoWorker.performLater(ctx, { n: 4 }, { key: 'sync' });
    assert.is.not(fresh, next, 'finished: the key is free');
  });

  test("unique keys: the worker's uniqueKey(args), and performLaterMany says what it added", async () => {
    register(KeyedEchoWorker);
    const results = await KeyedEchoWorker.performLaterMany(ctx, [{ n: 1 }, { n: 2 }, { n: 1 }, { n: 3 }]);
    assert.equal(
      results.map((result) => result.added),
      [true, true, false, true],
    );
    assert.is(results[2].id, results[0].id, 'a duplicate within the call matches the first');
    const again = await KeyedEchoWorker.performLaterMany(ctx, [{ n: 2 }, { n: 4 }]);
    assert.equal(
      again.map((result) => result.added),
      [false, true],
    );
    assert.is(again[0].id, results[1].id);
    assert.is((await job(results[0].id!)).key, 'n-1');
    assert.is((await backend.list({})).length, 4);
  });

  test('unique keys: 100 enqueues at once with one key leave one queued job (across processes where the store is shared)', async () => {
    register(EchoWorker);
    if (!backend.capabilities.shared) {
      const ids = await Promise.all(
        Array.from({ length: 100 }, (_, n) => EchoWorker.performLater(ctx, { n }, { key: 'race' })),
      );
      assert.is(new Set(ids).size, 1);
    } else {
      const processes = await Promise.all(
        [1, 2, 3, 4].map(() =>
          runEnqueueProcess(target.queueConfig(), { LOCO_TEST_KEY: 'race', LOCO_TEST_COUNT: '25' }),
        ),
      );
      assert.is(new Set(processes.flat()).size, 1, "every enqueue got the one job's id");
    }
    const queued = await backend.list({ statuses: ['queued'] });
    assert.is(queued.length, 1);
    assert.is(queued[0].key, 'race');
  });

  test('argsSchema (any Standard Schema): args are checked before anything is written; perform gets the output', async () => {
    const schema = z.object({ userGuid: z.string().min(1), pages: z.number().int().default(1) });
    const seen: unknown[] = [];
    class Validated extends BackgroundWorker<z.output<typeof schema>> {
      static override argsSchema = schema;
      async perform(args: z.output<typeof schema>): Promise<void> {
        seen.push(args);
      }
    }
    register(Validated);
    try {
      await Validated.performLater(ctx, { userGuid: '', tags: ['x'] } as never);
      assert.unreachable('should throw');
    } catch (err) {
      assert.instance(err, ArgsError);
      assert.match((err as Error).message, 'Validated: the args do not match its argsSchema: userGuid: ');
    }
    try {
      await Validated.performLaterMany(ctx, [{ userGuid: 'ok' }, { userGuid: 7 } as never]);
      assert.unreachable('should throw');
    } catch (err) {
      assert.match((err as Error).message, 'userGuid: Invalid input: expected string, received number');
    }
    assert.equal(await backend.list({}), [], 'nothing was written');
    const id = (await Validated.performLater(ctx, { userGuid: 'foo' }))!;
    assert.equal((await job(id)).task_data, { userGuid: 'foo' }, 'the args as given are stored');
    await runUntil(ctx, () => seen.length === 1);
    assert.equal(seen, [{ userGuid: 'foo', pages: 1 }], "perform got the schema's output");
  });

  test('bad keys and priorities are refused with what was found and what is allowed, nothing written', async () => {
    register(EchoWorker);
    const refusals: Array<[() => Promise<unknown>, RegExp]> = [
      [
        () => EchoWorker.performLater(ctx, { n: 1 }, { key: '' }),
        /EchoWorker: cannot enqueue: key: expected a non-empty string, found the string ""\. Nothing was enqueued\./,
      ],
      [
        () => EchoWorker.performLater(ctx, { n: 1 }, { key: 'k'.repeat(MAX_KEY_LENGTH + 1) }),
        new RegExp(`key: expected at most ${MAX_KEY_LENGTH} characters, found ${MAX_KEY_LENGTH + 1}`),
      ],
      [() => EchoWorker.performLaterMany(ctx, [{ n: 1 }, { n: 2 }], { priority: -40_000 }), /found number -40000/],
      [
        () => EchoWorker.performLater(ctx, { n: 1 }, { priority: 1.5 }),
        /priority: expected a whole number from -32768 to 32767 \(higher runs first\), found number 1\.5/,
      ],
      [() => EchoWorker.performLater(ctx, { n: 1 }, { priority: 40_000 }), /found number 40000/],
    ];
    for (const [enqueue, message] of refusals) {
      try {
        await enqueue();
        assert.unreachable('should throw');
      } catch (err) {
        assert.instance(err, RangeError);
        assert.match((err as Error).message, message);
      }
    }
    assert.equal(await backend.list({}), []);
    class Frantic extends BackgroundWorker<unknown> {
      static override priority() {
        return 99_999;
      }
      async perform(): Promise<void> {}
    }
    assert.throws(() => register(Frantic), /Frantic\.priority\(\): expected a whole number from -32768 to 32767/);
  });

  test('priority: higher first among due jobs, then run_at, then enqueue order; the worker sets the default', async () => {
    register(EchoWorker, UrgentWorker);
    const now = Date.now();
    const low = (await EchoWorker.performLater(ctx, { n: 1 }, { priority: -5, runAt: now - 10 }))!;
    const normalLate = (await EchoWorker.performLater(ctx, { n: 2 }, { runAt: now - 5 }))!;
    const normalEarly = (await EchoWorker.performLater(ctx, { n: 3 }, { runAt: now - 20 }))!;
    const urgent = (await UrgentWorker.performLater(ctx, { n: 4 }))!;
    const top = (await EchoWorker.performLater(ctx, { n: 5 }, { priority: 100 }))!;
    const future = (await EchoWorker.performLater(ctx, { n: 6 }, { priority: 1000, delay: '1m' }))!;
    assert.is((await job(urgent)).priority, 10, 'UrgentWorker.priority()');
    const order: string[] = [];
    for (;;) {
      const claimed = await backend.claim({
        names: ['EchoWorker', 'UrgentWorker'],
        tags: [],
        limit: 2,
        leaseMs: 60_000,
        now: Date.now() + 1,
      });
      if (claimed.length === 0) break;
      order.push(...claimed.map((row) => row.id));
    }
    assert.equal(order, [top, urgent, normalEarly, normalLate, low]);
    assert.is((await job(future)).status, 'queued', 'a job not due waits, whatever its priority');
  });

  test('lookup by id: the whole record, or null', async () => {
    register(EchoWorker);
    const id = (await EchoWorker.performLater(ctx, { n: 7 }, { key: 'k-7', priority: 3 }))!;
    const record = await ctx.queue.job(id);
    assert.ok(record);
    assert.equal(
      {
        id: record.id,
        name: record.name,
        status: record.status,
        task_data: record.task_data,
        priority: record.priority,
        key: record.key,
        attempts: record.attempts,
        tags: record.tags,
        queue: record.queue,
      },
      {
        id,
        name: 'EchoWorker',
        status: 'queued',
        task_data: { n: 7 },
        priority: 3,
        key: 'k-7',
        attempts: 0,
        tags: [],
        queue: null,
      },
    );
    assert.is(await ctx.queue.job('01HZZZZZZZZZZZZZZZZZZZZZZZ'), null);
  });

  test('Queue.job(id) polled while a worker runs: queued, then processing with a lease, then completed', async () => {
    register(SlowWorker);
    const enqueuedAt = Date.now();
    // A second's run, so that a poll sees it processing even when reads take hundreds of ms.
    const id = (await SlowWorker.performLater(ctx, { ms: 1000 }))!;
    const queued = await ctx.queue.job(id);
    assert.equal([queued?.status, queued?.attempts, queued?.lease_until], ['queued', 0, null]);
    const seen: JobRecord[] = [];
    await runUntil(
      ctx,
      async () => {
        const record = await ctx.queue.job(id);
        assert.ok(record, 'the job is found on every poll');
        if (seen.at(-1)?.status !== record.status) seen.push(record);
        return record.status === 'completed';
      },
      { timeoutMs: 10_000 },
    );
    assert.equal(
      seen.map((record) => record.status),
      ['queued', 'processing', 'completed'].slice(seen[0]?.status === 'queued' ? 0 : 1),
      'the statuses a poller sees, in order',
    );
    const running = seen.find((record) => record.status === 'processing')!;
    const done = seen.at(-1)!;
    assert.is(running.attempts, 1);
    assert.ok(running.lease_until !== null && running.lease_until > enqueuedAt, 'a running job holds a lease');
    assert.equal([done.status, done.attempts, done.lease_until, done.last_error], ['completed', 1, null, null]);
    assert.is(done.created_at, queued!.created_at);
    assert.is(done.run_at, queued!.run_at);
    assert.ok(
      done.updated_at - running.updated_at >= 950,
      `completed after the 1000 ms run: started ${running.updated_at}, completed ${done.updated_at}`,
    );
    assert.equal(calls.seen, [{ name: 'SlowWorker', args: { ms: 1000 } }]);
  });

  test('ping() answers on an open store; reclaimSpace() says what it did and never grows the store', async () => {
    await backend.ping();
    register(EchoWorker, SlowWorker);
    const kept = (await SlowWorker.performLater(ctx, { ms: 1 }))!;
    await EchoWorker.performLaterMany(
      ctx,
      Array.from({ length: 200 }, (_, n) => ({ n, text: 'x'.repeat(2_000) })),
    );
    assert.is(await backend.cancel('EchoWorker'), 200);
    assert.is(await backend.remove({ statuses: ['cancelled'] }), 200);
    const report = await backend.reclaimSpace({ vacuum: false });
    assert.type(report.note, 'string');
    assert.ok(report.note.trim().length > 20, `a note says what the store did: '${report.note}'`);
    assert.is(report.before === null, report.after === null, 'both sizes or neither');
    if (report.before !== null) {
      assert.ok(report.before > 0, `the size before: ${report.before}`);
      assert.ok(report.after! <= report.before, `not bigger after: ${report.before} -> ${report.after}`);
    }
    assert.equal(
      (await backend.list({})).map((record) => [record.id, record.status, record.task_data]),
      [[kept, 'queued', { ms: 1 }]],
      'the job that was not removed is kept as it was',
    );
    await backend.ping();
    if (unshared('ping() fails once the connection is closed')) return;
    const other = await target.openAnother();
    await other.ping();
    await other.close();
    try {
      await other.ping();
      assert.unreachable('ping() after close() should reject');
    } catch (err) {
      assert.instance(err, Error);
      assert.not.instance(err, assert.Assertion, 'ping() after close() rejects');
    }
  });

  test('cancel by ids: only those queued jobs of the name, the others left to run', async () => {
    register(EchoWorker, ReportWorker);
    const [e1, e2, e3] = (await EchoWorker.performLaterMany(ctx, [{ n: 1 }, { n: 2 }, { n: 3 }])).map(
      (result) => result.id!,
    );
    const delayed = (await EchoWorker.performLater(ctx, { n: 4 }, { delay: '1m', key: 'later' }))!;
    const report = (await ReportWorker.performLater(ctx, { n: 5 }))!;
    assert.is(await backend.cancel('EchoWorker', [e2, delayed, report, 'no-such-id']), 2, 'another name is left alone');
    assert.is(await backend.cancel('EchoWorker', [e2]), 0, 'a cancelled job is not cancelled again');
    assert.is(await backend.cancel('EchoWorker', []), 0);
    const statuses = await Promise.all([e1, e2, e3, delayed, report].map(async (id) => (await job(id)).status));
    assert.equal(statuses, ['queued', 'cancelled', 'queued', 'cancelled', 'queued']);
    const claimed = await backend.claim({
      names: ['EchoWorker'],
      tags: [],
      limit: 10,
      leaseMs: 60_000,
      now: Date.now() + 120_000,
    });
    assert.equal(claimed.map((row) => row.id).sort(), [e1, e3].sort(), 'the cancelled jobs are never claimed');
    const again = (await EchoWorker.performLater(ctx, { n: 6 }, { key: 'later' }))!;
    assert.is.not(again, delayed, "the cancelled job's key is free");
  });

  test('retry: failed (and cancelled, when asked) jobs are queued again with attempts reset and args kept', async () => {
    register(EchoWorker, FlakyWorker);
    const failedId = (await FlakyWorker.performLater(ctx, { n: 1 }, { key: 'flaky' }))!;
    await runUntil(ctx, async () => (await job(failedId)).status === 'failed');
    const cancelledId = (await EchoWorker.performLater(ctx, { n: 2 }, { delay: '1m' }))!;
    await backend.cancel('EchoWorker');
    assert.is(await ctx.queue.retry([cancelledId]), 0, 'cancelled jobs only with cancelled: true');
    // Another job took the key meanwhile: the retried one gives it up.
    const holder = (await FlakyWorker.performLater(ctx, { n: 3 }, { key: 'flaky', delay: '1m' }))!;
    assert.is(await ctx.queue.retry([failedId, cancelledId], { cancelled: true }), 2);
    const retried = await job(failedId);
    assert.is(retried.status, 'queued');
    assert.is(retried.attempts, 0);
    assert.equal(retried.task_data, { n: 1 });
    assert.match(retried.last_error ?? '', 'flaky failure 1', 'the last error is kept');
    assert.is(retried.key, null, 'its key is held by another queued job');
    assert.is((await job(holder)).key, 'flaky');
    assert.is((await job(cancelledId)).status, 'queued');
    assert.is(await ctx.queue.retry([failedId]), 0, 'a queued job is not retried');
    calls.reset();
    await runUntil(ctx, () => calls.count('FlakyWorker') === 2);
    assert.is(calls.count('FlakyWorker'), 2, 'it ran again, with its attempts');
  });

  test('a store without transactions refuses an enqueue inside one, naming the stores that can', async () => {
    if (backend.capabilities.transactions) return;
    register(EchoWorker);
    const refused = await EchoWorker.performLater(ctx, { n: 1 }, { client: {} }).then(
      () => 'accepted',
      (err: Error) => err.message,
    );
    assert.match(refused, 'cannot write inside an app transaction; only the Postgres and SQLite queues can');
    assert.equal(await backend.list({}), []);
  });

  /**
   * Runs the flow workers until `done()` holds: in 3 worker processes on a shared store, or in 3
   * loops of this process on one that is not; returns every record the jobs wrote.
   */
  const runFlow = async (done: () => Promise<boolean>, env: Record<string, string> = {}): Promise<FlowRecord[]> => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'loco-flow-'));
    try {
      if (backend.capabilities.shared) {
        const workers = await Promise.all(
          [1, 2, 3].map(() =>
            spawnWorkerProcess(
              target.queueConfig(),
              { LOCO_TEST_COUNT_DIR: folder, LOCO_TEST_CONCURRENCY: '4', LOCO_TEST_LEASE_MS: '5000', ...env },
              /ready/,
            ),
          ),
        );
        try {
          await waitUntil(done, 20_000);
        } finally {
          for (const { child } of workers) child.kill('SIGTERM');
          await Promise.all(workers.map(({ child }) => exited(child)));
        }
      } else {
        process.env.LOCO_TEST_COUNT_DIR = folder;
        const stop = new AbortController();
        const loops = [1, 2, 3].map(() =>
          runWorkerLoop({
            backend,
            registry: ctx.queue.registry,
            concurrency: 4,
            pollIntervalMs: 50,
            leaseMs: 5000,
            tags: [],
            signal: stop.signal,
            logger: silentLogger,
          }),
        );
        try {
          await waitUntil(done, 20_000);
        } finally {
          stop.abort();
          await Promise.all(loops);
        }
      }
      return readdirSync(folder).flatMap((file) =>
        readFileSync(path.join(folder, file), 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as FlowRecord),
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  };
  const allCompleted = (count: number) => async () =>
    (await backend.stats()).filter((row) => row.status === 'completed').reduce((sum, row) => sum + row.count, 0) >=
    count;

  test('concurrency(): at most 2 jobs of the worker at once across all processes', async () => {
    register(...FLOW_WORKERS);
    await SlotWorker.performLaterMany(
      ctx,
      Array.from({ length: 60 }, (_, n) => ({ n, ms: 30 })),
    );
    const records = await runFlow(allCompleted(60));
    assert.is(records.length, 60, 'every job ran once');
    assert.is(maxOverlap(records), 2, 'never more than 2 at once, and the 2 slots were used');
  });

  test('concurrencyKey(): 2 at once per key; other keys go on, so up to 6 with 3 keys', async () => {
    register(...FLOW_WORKERS);
    await TenantWorker.performLaterMany(
      ctx,
      Array.from({ length: 60 }, (_, n) => ({ n, ms: 40, tenant: `t${n % 3}` })),
    );
    const records = await runFlow(allCompleted(60));
    assert.is(records.length, 60);
    for (const tenant of ['t0', 't1', 't2']) {
      assert.ok(maxOverlap(records.filter((record) => record.key === tenant)) <= 2, `${tenant}: at most 2 at once`);
    }
    const overall = maxOverlap(records);
    assert.ok(overall > 2 && overall <= 6, `other keys flow: ${overall} at once`);
  });

  test('rateLimit() 10 per second: no 1-second window holds more than 10 starts, and 50 jobs take about 4 s', async () => {
    register(...FLOW_WORKERS);
    const begin = Date.now();
    await PacedWorker.performLaterMany(
      ctx,
      Array.from({ length: 50 }, (_, n) => ({ n, ms: 5 })),
    );
    const records = await runFlow(allCompleted(50));
    const took = Date.now() - begin;
    assert.is(records.length, 50);
    // The limit counts claims; a job records when its perform began, after its claim (a few ms,
    // and a few hundred when the machine is loaded: the claim's round trip and the process's
    // turn on a busy CPU), so starts 10 apart may look that much closer than 1 s. A limiter
    // that let 20 through at a window's edge would show them tens of ms apart, and one with a
    // window of 600 ms 600 ms apart, both below this bound.
    const starts = records.map((record) => record.start).sort((a, b) => a - b);
    for (let i = 10; i < starts.length; i++) {
      assert.ok(
        starts[i] - starts[i - 10] >= 700,
        `starts ${i - 10} and ${i} are ${starts[i] - starts[i - 10]} ms apart`,
      );
    }
    // 5 windows of 10 starts: 4 s, and each window's claims a little later on a loaded machine;
    // at half the rate (a limiter counting each start twice) it would be 9 s.
    assert.ok(
      starts[49] - starts[0] < 7000,
      `the drain did not crawl: ${starts[49] - starts[0]} ms from first to last start`,
    );
    // With the start of 3 worker processes, which take seconds each on a loaded machine.
    assert.ok(took < 15_000, `the whole run took ${took} ms`);
  });

  test('a worker process killed while it holds slots gives them up when its leases run out', async () => {
    if (unshared('concurrency slots after SIGKILL')) return;
    register(...FLOW_WORKERS);
    const folder = mkdtempSync(path.join(os.tmpdir(), 'loco-flow-kill-'));
    try {
      // The first two jobs hang, in a process that is then killed; with one attempt each, their
      // expired leases fail them and free the slots for the rest.
      const hung = await ctx.queue.enqueueByName(
        'SlotWorker',
        [
          { n: 0, ms: 60_000 },
          { n: 1, ms: 60_000 },
        ],
        { maxAttempts: 1 },
      );
      await SlotWorker.performLaterMany(
        ctx,
        [2, 3, 4, 5].map((n) => ({ n, ms: 10 })),
      );
      const doomed = await spawnWorkerProcess(
        target.queueConfig(),
        { LOCO_TEST_COUNT_DIR: folder, LOCO_TEST_CONCURRENCY: '4', LOCO_TEST_LEASE_MS: '600' },
        /ready/,
      );
      await waitUntil(async () => (await backend.list({ statuses: ['processing'] })).length === 2, 10_000);
      doomed.child.kill('SIGKILL');
      await exited(doomed.child);
      const killedAt = Date.now();
      const records = await runFlow(allCompleted(4));
      assert.equal(records.map((record) => record.n).sort(), [2, 3, 4, 5], 'the others ran once the slots were free');
      assert.ok(Math.min(...records.map((record) => record.start)) >= killedAt + 300, 'not before the leases ran out');
      for (const { id } of hung) assert.is((await job(id!)).status, 'failed');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('pause and resume: a paused worker is claimed by no process until resumed; enqueues go on', async () => {
    register(...FLOW_WORKERS);
    assert.is(await ctx.queue.pause('PlainFlowWorker'), true);
    assert.is(await ctx.queue.pause('PlainFlowWorker'), false, 'paused already');
    assert.is(await ctx.queue.pause({ queue: 'slow' }), true);
    assert.equal(await ctx.queue.paused(), [
      { kind: 'queue', name: 'slow' },
      { kind: 'worker', name: 'PlainFlowWorker' },
    ]);
    await PlainFlowWorker.performLaterMany(
      ctx,
      Array.from({ length: 20 }, (_, n) => ({ n, ms: 1 })),
    );
    await ctx.queue.enqueueByName('SlotWorker', [{ n: 100, ms: 1 }], { queue: 'slow' });
    const [open] = await SlotWorker.performLaterMany(ctx, [{ n: 200, ms: 1 }]);
    const resumeAfter = Date.now() + 300;
    let resumed = false;
    const records = await runFlow(async () => {
      if (!resumed && Date.now() >= resumeAfter) {
        // Read before resuming (once resumed, the workers may finish paused jobs before a read),
        // once the job that may run has run.
        const ran = (await backend.list({ statuses: ['completed'] })).map((row) => row.id);
        if (ran.includes(open.id!)) {
          assert.equal(ran, [open.id], 'while paused only the job of a worker and queue not paused ran');
          resumed = await ctx.queue.resume('PlainFlowWorker');
          assert.ok(resumed, 'the worker was paused until now');
        }
      }
      return allCompleted(21)();
    });
    assert.is(records.filter((record) => record.n < 20).length, 20, 'all 20 ran after resume');
    assert.is((await backend.list({ statuses: ['queued'] })).length, 1, "the paused queue's job waits");
    assert.is(await ctx.queue.resume({ queue: 'slow' }), true);
    assert.equal(await ctx.queue.paused(), []);
  });

  test('jobs a worker may not take (paused, at a limit) do not hold back the others in the claim', async () => {
    register(EchoWorker);
    await ctx.queue.enqueueByName(
      'BlockedWorker',
      Array.from({ length: 2000 }, (_, n) => ({ n })),
    );
    const others = (
      await EchoWorker.performLaterMany(
        ctx,
        Array.from({ length: 20 }, (_, n) => ({ n })),
      )
    ).map((result) => result.id);
    await ctx.queue.pause('BlockedWorker');
    const claimed = await backend.claim({
      names: ['BlockedWorker', 'EchoWorker'],
      tags: [],
      limit: 30,
      leaseMs: 60_000,
      now: Date.now() + 1,
      limits: { EchoWorker: { concurrency: 100 } },
    });
    assert.equal(
      claimed.map((row) => row.id),
      others,
    );
  });

  test('graceful shutdown: stop claiming, finish running jobs, record them', async () => {
    register(SlowWorker);
    // A second's run, so that the enqueue below comes while it runs even on a loaded machine.
    const first = (await SlowWorker.performLater(ctx, { ms: 1000 }))!;
    const stop = new AbortController();
    const loop = runWorkerLoop({
      backend,
      registry: ctx.queue.registry,
      concurrency: 1,
      pollIntervalMs: 20,
      leaseMs: 5000,
      tags: [],
      signal: stop.signal,
      logger: silentLogger,
    });
    while ((await job(first)).status !== 'processing' || calls.slowStarted < 1) await sleep(5);
    const second = (await SlowWorker.performLater(ctx, { ms: 10 }))!;
    stop.abort();
    await loop;
    assert.is(calls.count('SlowWorker'), 1, 'the running job finished');
    assert.is((await job(first)).status, 'completed', 'and was recorded');
    assert.is((await job(second)).status, 'queued', 'nothing new was claimed');
  });

  test('claims ahead: while jobs are short a process holds up to `prefetch` more than its slots; at shutdown those not started go back queued', async () => {
    register(SlowWorker);
    const stop = new AbortController();
    const loop = runWorkerLoop({
      backend,
      registry: ctx.queue.registry,
      concurrency: 1,
      prefetch: 3,
      pollIntervalMs: 20,
      leaseMs: 5000,
      tags: [],
      signal: stop.signal,
      logger: silentLogger,
    });
    const short = (await SlowWorker.performLater(ctx, { ms: 1 }))!;
    while ((await job(short)).status !== 'completed') await sleep(5);
    // Each runs a second: the reads below and the stop come while the first one runs, even when
    // reads take hundreds of ms on a loaded machine.
    const ids = (
      await SlowWorker.performLaterMany(
        ctx,
        Array.from({ length: 6 }, () => ({ ms: 1000 })),
      )
    ).map((added) => added.id!);
    const processing = async () => (await backend.list({ statuses: ['processing'] })).map((row) => row.id).sort();
    const deadline = Date.now() + 10_000;
    while (((await processing()).length < 4 || calls.slowStarted < 2) && Date.now() < deadline) await sleep(5);
    assert.is(calls.slowStarted, 2, 'the first long job has started');
    assert.equal(await processing(), ids.slice(0, 4).sort(), 'one job running and the next 3 claimed ahead');
    stop.abort();
    await loop;
    assert.is(calls.count('SlowWorker'), 2, 'only the short job and the first long one ran');
    assert.is((await job(ids[0])).status, 'completed');
    for (const id of ids.slice(1)) {
      const row = await job(id);
      assert.is(row.status, 'queued', `job ${id} is queued again`);
      assert.is(row.attempts, 0, `job ${id} has its attempt given back`);
    }
  });

  test('a drain of short jobs: where a claim records outcomes, they ride on the claims instead of writes of their own', async () => {
    register(EchoWorker);
    const JOBS = 2000;
    await EchoWorker.performLaterMany(
      ctx,
      Array.from({ length: JOBS }, (_, n) => ({ n })),
    );
    let carried = 0;
    let written = 0;
    // The store as the loop sees it, counting the outcomes each way takes.
    const counting = withCalls(backend, {
      claim: (request) => {
        carried += request.finish?.length ?? 0;
        return backend.claim(request);
      },
      finish: (outcomes) => {
        written += outcomes.length;
        return backend.finish(outcomes);
      },
    });
    const stop = new AbortController();
    const loop = runWorkerLoop({
      backend: counting,
      registry: ctx.queue.registry,
      concurrency: 4,
      pollIntervalMs: 20,
      leaseMs: 5000,
      tags: [],
      signal: stop.signal,
      logger: silentLogger,
    });
    await waitUntil(() => calls.count('EchoWorker') === JOBS, 60_000);
    stop.abort();
    await loop;
    assert.is(carried + written, JOBS, 'every outcome was recorded once');
    if (backend.capabilities.finishInClaim) {
      assert.ok(carried >= JOBS / 2, `${carried} of ${JOBS} outcomes rode on claims (${written} written apart)`);
    } else {
      assert.is(carried, 0, 'a store that cannot record outcomes in a claim is never handed any');
    }
    const left = (await backend.stats()).filter((row) => row.status !== 'completed');
    assert.equal(left, [], 'every job completed');
  });

  test('a job written by one connection is seen and claimed by another', async () => {
    if (unshared('visible across connections')) return;
    register(EchoWorker);
    const other = await target.openAnother();
    extra.push(other);
    const id = (await EchoWorker.performLater(ctx, { n: 1 }))!;
    const [claimed] = await other.claim({
      names: ['EchoWorker'],
      tags: [],
      limit: 5,
      leaseMs: 5000,
      now: Date.now() + 1,
    });
    assert.is(claimed?.id, id);
    assert.equal(claimed.task_data, { n: 1 });
  });

  test('concurrent claims from several connections never hand out a job twice', async () => {
    if (unshared('atomic claim across connections')) return;
    register(EchoWorker);
    const others = await Promise.all([target.openAnother(), target.openAnother()]);
    extra.push(...others);
    const ids = (
      await EchoWorker.performLaterMany(
        ctx,
        Array.from({ length: 200 }, (_, n) => ({ n })),
      )
    ).map((result) => result.id);
    const seen: string[] = [];
    await Promise.all(
      [backend, ...others].map(async (connection) => {
        for (;;) {
          const jobs = await connection.claim({
            names: ['EchoWorker'],
            tags: [],
            limit: 7,
            leaseMs: 5000,
            now: Date.now() + 1,
          });
          if (jobs.length === 0) return;
          seen.push(...jobs.map((row) => row.id));
        }
      }),
    );
    assert.is(seen.length, 200);
    assert.equal([...new Set(seen)].sort(), [...ids].sort());
  });

  test('tick claims: one winner among concurrent claimers on every connection', async () => {
    const connections = backend.capabilities.shared
      ? [backend, ...(await Promise.all([target.openAnother(), target.openAnother()]))]
      : [backend];
    extra.push(...connections.slice(1));
    const tickAt = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, n) => connections[n % connections.length].claimTick('nightly', tickAt, 60_000)),
    );
    assert.is(outcomes.filter(Boolean).length, 1, `one winner among ${outcomes.length} claims`);
  });

  test('tick claims: a second claim of a tick loses; other ticks and other schedules win', async () => {
    const tickAt = Date.now();
    assert.ok(await backend.claimTick('nightly', tickAt, 60_000));
    assert.not.ok(await backend.claimTick('nightly', tickAt, 60_000), 'the same tick again');
    assert.not.ok(await backend.claimTick('nightly', tickAt, 120_000), 'the same tick with a longer hold');
    assert.ok(await backend.claimTick('nightly', tickAt + 1000, 60_000), 'the next tick');
    assert.ok(await backend.claimTick('hourly', tickAt, 60_000), 'another schedule at the same time');
    assert.ok(await backend.claimTick('nightly:extra', tickAt, 60_000), 'a name that extends another');
    assert.not.ok(await backend.claimTick('late', Date.now() - 5000, 1000), 'a tick past its hold');
  });

  test('the job of a worker process killed with SIGKILL returns to the queue after its lease and runs again', async () => {
    if (unshared('lease after SIGKILL')) return;
    const [{ id: enqueued }] = await ctx.queue.enqueueByName('HangWorker', [{ ms: 60_000, label: 'doomed' }], {
      maxAttempts: 3,
    });
    const id = enqueued!;
    // A lease of 1 s: the process's heartbeats (every third of it) keep the job until the kill
    // even when one comes late on a loaded machine; the last one, sent before the kill, ends the
    // lease within 1 s of it, so 1.1 s after the kill it has run out.
    const { child } = await spawnWorkerProcess(target.queueConfig(), { LOCO_TEST_LEASE_MS: '1000' }, /started doomed/);
    child.kill('SIGKILL');
    await exited(child);
    const stuck = await job(id);
    assert.is(stuck.status, 'processing');
    assert.is(stuck.attempts, 1);
    await sleep(1100);
    assert.is(await backend.reapExpired(Date.now()), 1, 'the expired lease is found');
    const back = await job(id);
    assert.is(back.status, 'queued');
    const { child: second } = await spawnWorkerProcess(
      target.queueConfig(),
      { LOCO_TEST_LEASE_MS: '5000' },
      /started doomed/,
    );
    second.kill('SIGKILL');
    await exited(second);
    assert.is((await job(id)).attempts, 2, 'it ran again');
  });

  test.run();
}
