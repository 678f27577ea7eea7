// The backend contract: one suite that every queue backend's test file runs, so that the
// in-process, SQLite, Postgres and Redis queues behave the same.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatDump, parseDump } from '../../runtime/src/cli/jobs/dump-format.js';
import {
  type AppContext,
  ArgsError,
  BackgroundWorker,
  type JobRecord,
  type QueueBackend,
  type RetryPolicy,
  runWorkerLoop,
  type StoreConfig,
  silentLogger,
  type WorkerInstance,
} from '../../runtime/src/internals.js';
import { MAX_ATTEMPTS, MAX_RUN_AT, MAX_TAGS } from '../../runtime/src/job-limits.js';
import { OutcomeWriter } from '../../runtime/src/outcome-writer.js';
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
  openStore,
  RejectsNothingWorker,
  ReportWorker,
  recordingLogger,
  runUntil,
  SlowWorker,
  sleep,
  spawnWorkerProcess,
  testContext,
  testStoreConfig,
  withFinish,
} from './helpers.js';

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
    calls.seen.length = 0;
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

  test('claims are FIFO, limited, and hand each job out once', async () => {
    register(EchoWorker);
    const ids = await EchoWorker.performLaterMany(ctx, [{ n: 1 }, { n: 2 }, { n: 3 }]);
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
    const id = (await SlowWorker.performLater(ctx, { ms: 300 }))!;
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
    while ((await job(id)).attempts < 2) await sleep(5);
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
    assert.equal(
      await backend.claim({ names: ['EchoWorker'], tags: [], limit: 5, leaseMs: 5000, now: Date.now() }),
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
    const left = await job(ghost[0]);
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
    const ids = (await EchoWorker.performLaterMany(ctx, [deepest as never, biggest as never])) as string[];
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
    const [latest] = await ctx.queue.enqueueByName('EchoWorker', [{ n: 1 }], {
      runAt: MAX_RUN_AT,
      interval: '36500d',
      tags,
      queue: 'q'.repeat(255),
      maxAttempts: MAX_ATTEMPTS,
    });
    const fractional = (await EchoWorker.performLater(ctx, { n: 2 }, { delay: 0.5 }))!;
    const stored = await job(latest);
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
    await backend.finish([completedOutcome(again)]);
    assert.is((await job(id)).status, 'completed');
  });

  test('operator verbs: list, stats, cancel, remove and requeue, with their time bounds', async () => {
    register(EchoWorker, ReportWorker);
    const [e1, e2, e3] = (await EchoWorker.performLaterMany(ctx, [{ n: 1 }, { n: 2 }, { n: 3 }])) as string[];
    const delayed = (await EchoWorker.performLater(ctx, { n: 4 }, { delay: '1m' }))!;
    const [r1, r2] = (await ReportWorker.performLaterMany(ctx, [{ n: 5 }, { n: 6 }])) as string[];
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
    const id = (await SlowWorker.performLater(ctx, { ms: 900 }))!;
    await runUntil(ctx, () => calls.count('SlowWorker') === 1, { leaseMs: 300, timeoutMs: 5000 });
    const done = await job(id);
    assert.is(done.status, 'completed');
    assert.is(done.attempts, 1, 'claimed once: the reaper never took it back');
  });

  test('outcome writes: a failed batch is retried, then written one at a time; one the store keeps refusing is given up', async () => {
    register(EchoWorker);
    const ids = (await EchoWorker.performLaterMany(ctx, [{ n: 1 }, { n: 2 }, { n: 3 }])) as string[];
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
    assert.ok(
      lines.some((line) => line.includes(`Gave up saving the outcome of job ${poison}`)),
      lines.join('\n'),
    );
  });

  test('graceful shutdown: stop claiming, finish running jobs, record them', async () => {
    register(SlowWorker);
    const first = (await SlowWorker.performLater(ctx, { ms: 300 }))!;
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
    while ((await job(first)).status !== 'processing') await sleep(5);
    const second = (await SlowWorker.performLater(ctx, { ms: 10 }))!;
    stop.abort();
    await loop;
    assert.is(calls.count('SlowWorker'), 1, 'the running job finished');
    assert.is((await job(first)).status, 'completed', 'and was recorded');
    assert.is((await job(second)).status, 'queued', 'nothing new was claimed');
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
    const ids = await EchoWorker.performLaterMany(
      ctx,
      Array.from({ length: 200 }, (_, n) => ({ n })),
    );
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

  test('the job of a worker process killed with SIGKILL returns to the queue after its lease and runs again', async () => {
    if (unshared('lease after SIGKILL')) return;
    const id = (await ctx.queue.enqueueByName('HangWorker', [{ ms: 60_000, label: 'doomed' }], { maxAttempts: 3 }))[0];
    const { child } = await spawnWorkerProcess(target.queueConfig(), { LOCO_TEST_LEASE_MS: '400' }, /started doomed/);
    child.kill('SIGKILL');
    await exited(child);
    const stuck = await job(id);
    assert.is(stuck.status, 'processing');
    assert.is(stuck.attempts, 1);
    await sleep(500);
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
