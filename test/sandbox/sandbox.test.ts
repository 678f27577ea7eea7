// Sandboxed workers (static sandbox() is true) in one process: perform runs in a worker thread,
// args and errors cross by structured clone, the sandbox's ctx can enqueue, a timeout terminates
// a thread that never yields while the loop goes on, and threads are reused.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InProcessBackend, RegistryError, runWorkerLoop } from '../../runtime/src/internals.js';
import {
  BusySandboxWorker,
  EchoSandboxWorker,
  ExitSandboxWorker,
  LookupSandboxWorker,
  MisplacedSandboxWorker,
  NoModuleUrlWorker,
  QuickSandboxWorker,
  RecordWorker,
  recorded,
  SpinForeverWorker,
  ThrowSandboxWorker,
} from '../fixtures/sandbox-workers.js';
import { recordingLogger, testContext } from '../queue/helpers.js';

const test = suite('sandboxed workers');
// Where BusySandboxWorker writes; set before any thread starts, since a thread copies the environment.
const countDir = mkdtempSync(path.join(os.tmpdir(), 'loco-sandbox-'));
process.env.LOCO_TEST_COUNT_DIR = countDir;
test.after(() => rmSync(countDir, { recursive: true, force: true }));

/** A fresh in-process store and context with the fixture workers registered, and a loop to run. */
async function setup() {
  const backend = new InProcessBackend();
  await backend.init({ flush: false });
  const ctx = testContext(backend);
  const logger = recordingLogger();
  ctx.logger = logger;
  ctx.queue.register(EchoSandboxWorker.build(ctx));
  ctx.queue.register(RecordWorker.build(ctx));
  ctx.queue.register(SpinForeverWorker.build(ctx));
  ctx.queue.register(ThrowSandboxWorker.build(ctx));
  ctx.queue.register(LookupSandboxWorker.build(ctx));
  ctx.queue.register(QuickSandboxWorker.build(ctx));
  ctx.queue.register(MisplacedSandboxWorker.build(ctx));
  ctx.queue.register(ExitSandboxWorker.build(ctx));
  /** Runs the loop until every job in `ids` has finished and `until()` holds (or `timeoutMs`), then stops it. */
  const drain = async (
    ids: Array<string | undefined>,
    concurrency = 2,
    timeoutMs = 15_000,
    until = async () => true,
  ) => {
    const stop = new AbortController();
    const loop = runWorkerLoop({
      backend,
      registry: ctx.queue.registry,
      concurrency,
      pollIntervalMs: 20,
      leaseMs: 5000,
      tags: [],
      signal: stop.signal,
      logger,
    });
    const deadline = Date.now() + timeoutMs;
    const finished = async () => {
      const jobs = await Promise.all(ids.map((id) => backend.get(id!)));
      return jobs.every((job) => job?.status === 'completed' || job?.status === 'failed') && (await until());
    };
    while (Date.now() < deadline && !(await finished())) await new Promise((resolve) => setTimeout(resolve, 20));
    stop.abort();
    await loop;
  };
  return { backend, ctx, logger, drain };
}

test.before.each(() => {
  recorded.length = 0;
});

test('args reach the thread by structured clone; its ctx logs and enqueues through the main thread', async () => {
  const { backend, ctx, logger, drain } = await setup();
  const args = { label: 'deep', nested: { list: [1, 'two', null, { three: true }] }, text: 'é ü 中' };
  const id = await EchoSandboxWorker.performLater(ctx, args);
  // The echo job enqueues a RecordWorker job from its thread, which the loop runs in the main thread.
  await drain([id], 2, 15_000, async () => recorded.length > 0);
  assert.is((await backend.get(id!))?.status, 'completed');
  assert.is(recorded.length, 1, 'the job enqueued from the sandbox ran once');
  const report = recorded[0] as { received: unknown; threadId: number; appName: string };
  assert.equal(report.received, args);
  assert.ok(report.threadId > 0, `perform ran in a worker thread, not the main thread (threadId ${report.threadId})`);
  assert.is(report.appName, 'test', 'the sandbox ctx carries the app name');
  assert.ok(
    logger.lines.some((line) => line.includes(`echo from thread ${report.threadId}`) && line.includes('echo=deep')),
    `the thread's log line reached the process's logger:\n${logger.lines.join('\n')}`,
  );
});

test("an error thrown in the sandbox keeps its name, message and the thread's stack; a thrown value is kept", async () => {
  const { backend, ctx, drain } = await setup();
  const error = await ThrowSandboxWorker.performLater(ctx, {});
  const value = await ThrowSandboxWorker.performLater(ctx, { value: { reason: 'quota', left: 0 } });
  await drain([error, value]);
  const thrown = await backend.get(error!);
  assert.is(thrown?.status, 'failed');
  assert.match(thrown!.last_error!, /^ChartError: the chart has no axis\n/);
  assert.match(thrown!.last_error!, 'sandbox-workers.ts', "the stack is the thread's, naming the worker's file");
  const plain = await backend.get(value!);
  assert.is(plain?.last_error, '{"reason":"quota","left":0} (thrown without an Error)');
});

test('a sandboxed job that never yields is terminated at its timeout while other jobs of the process run', async () => {
  const { backend, ctx, drain } = await setup();
  const started = Date.now();
  const spin = await SpinForeverWorker.performLater(ctx, { n: 1 });
  const echoes = await Promise.all(Array.from({ length: 20 }, (_, n) => EchoSandboxWorker.performLater(ctx, { n })));
  await drain([spin, ...echoes]);
  const spun = await backend.get(spin!);
  assert.is(spun?.status, 'failed');
  assert.match(spun!.last_error!, 'SpinForeverWorker ran longer than its timeout of 300 ms.');
  for (const id of echoes) assert.is((await backend.get(id!))?.status, 'completed');
  assert.ok(Date.now() - started < 10_000, 'the loop stopped: the spinning thread did not hold it');
});

test("a timeout counts from perform's start, not the thread's: a quick job on a new thread succeeds", async () => {
  const { backend, ctx, drain } = await setup();
  const id = await QuickSandboxWorker.performLater(ctx, { n: 1 });
  await drain([id]);
  const job = await backend.get(id!);
  assert.is(
    job?.status,
    'completed',
    `a 200 ms timeout on a thread that starts slower; last error: ${job?.last_error}`,
  );
});

test('a sandboxed worker whose module does not export it fails with what to fix', async () => {
  const { backend, ctx, drain } = await setup();
  const id = await MisplacedSandboxWorker.performLater(ctx, { n: 1 });
  await drain([id]);
  const job = await backend.get(id!);
  assert.is(job?.status, 'failed');
  assert.match(job!.last_error!, "none of its exports is a worker class whose className() is 'MisplacedSandboxWorker'");
  assert.match(job!.last_error!, 'flow-workers.ts');
});

test('a thread that ends (process.exit in the job, an error thrown later) fails that job or is logged; others go on', async () => {
  const { backend, ctx, logger, drain } = await setup();
  const exit = await ExitSandboxWorker.performLater(ctx, { how: 'exit' });
  await drain([exit], 1);
  const exited = await backend.get(exit!);
  assert.is(exited?.status, 'failed');
  assert.match(exited!.last_error!, 'The sandbox thread exited with code 3 before the job ended');
  const late = await ExitSandboxWorker.performLater(ctx, { how: 'late-throw' });
  await drain([late], 1, 15_000, async () =>
    logger.lines.some((line) => line.includes('A sandbox thread ended between jobs')),
  );
  assert.is((await backend.get(late!))?.status, 'completed', 'perform had returned');
  const after = await EchoSandboxWorker.performLater(ctx, { n: 1 });
  await drain([after], 1);
  assert.is((await backend.get(after!))?.status, 'completed', 'the next job ran, on a new thread');
  const line = logger.lines.find((text) => text.includes('A sandbox thread ended between jobs'));
  assert.ok(line, `the late error was logged:\n${logger.lines.join('\n')}`);
  assert.match(line!, 'thrown by a timer after perform returned');
});

test("the sandbox's queue offers performLater and performLaterMany only, and says so", async () => {
  const { backend, ctx, drain } = await setup();
  const id = await LookupSandboxWorker.performLater(ctx, { id: 'x' });
  await drain([id]);
  const job = await backend.get(id!);
  assert.is(job?.status, 'failed');
  assert.match(job!.last_error!, 'ctx.queue.job is not available inside a sandboxed perform');
  assert.match(job!.last_error!, 'performLater and performLaterMany only');
});

test('threads are reused between jobs, never more than the concurrency', async () => {
  const { ctx, drain } = await setup();
  const ids = await Promise.all(Array.from({ length: 12 }, (_, n) => EchoSandboxWorker.performLater(ctx, { n })));
  await drain(ids, 2, 15_000, async () => recorded.length >= 12);
  const threads = new Set(recorded.map((report) => (report as { threadId: number }).threadId));
  assert.is(recorded.length, 12);
  assert.ok(threads.size >= 1 && threads.size <= 2, `12 jobs at 2 at once ran on ${threads.size} thread(s)`);
});

test('sandbox() without moduleUrl is refused at register, saying what to add', () => {
  const ctx = testContext(undefined, 'ForegroundBlocking');
  try {
    ctx.queue.register(NoModuleUrlWorker.build(ctx));
    assert.unreachable('registered');
  } catch (err) {
    assert.instance(err, RegistryError);
    assert.match((err as Error).message, 'NoModuleUrlWorker.moduleUrl is not set');
    assert.match((err as Error).message, 'static override readonly moduleUrl = import.meta.url;');
  }
});

test('a busy sandboxed job leaves the main event loop free', async () => {
  const { ctx, drain } = await setup();
  ctx.queue.register(BusySandboxWorker.build(ctx));
  const id = await BusySandboxWorker.performLater(ctx, { n: 1, ms: 600 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 20);
  await drain([id], 1);
  clearInterval(timer);
  // About 30 ticks in 600 ms; a blocked loop would get none while the job ran.
  assert.ok(ticks >= 10, `the main thread's timers ran ${ticks} times while the job spun`);
});

test.run();
