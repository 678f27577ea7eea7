import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import {
  type AppContext,
  ArgsError,
  BackgroundWorker,
  backoffDelay,
  boot,
  ConfigError,
  type Hooks,
  parseDuration,
  type Queue,
  RegistryError,
  validateConfig,
} from '../runtime/src/internals.js';
import { recordingLogger, sleep, testContext } from './queue/helpers.js';

const ran: unknown[] = [];

class download_worker extends BackgroundWorker<{ userGuid: string }> {
  async perform(args: { userGuid: string }): Promise<void> {
    ran.push(args);
  }
}

class CustomName extends BackgroundWorker<{ n: number }> {
  static override className(): string {
    return 'Renamed';
  }
  async perform(args: { n: number }): Promise<void> {
    if (args.n < 0) throw new Error(`negative ${args.n}`);
    ran.push(args);
  }
}

class SlowCounter extends BackgroundWorker<{ ms: number }> {
  static active = 0;
  static peak = 0;
  async perform(args: { ms: number }): Promise<void> {
    SlowCounter.active += 1;
    SlowCounter.peak = Math.max(SlowCounter.peak, SlowCounter.active);
    await sleep(args.ms);
    SlowCounter.active -= 1;
    ran.push(args);
  }
}

test.before.each(() => {
  ran.length = 0;
});

test('className: UpperCamelCase of the class name, overridable', () => {
  assert.is(download_worker.className(), 'DownloadWorker');
  assert.is(CustomName.className(), 'Renamed');
  assert.equal(download_worker.tags(), []);
  assert.is(download_worker.queue(), undefined);
});

test('ForegroundBlocking runs the job inline; its error reaches the caller', async () => {
  const ctx = testContext(undefined, 'ForegroundBlocking');
  ctx.queue.register(download_worker.build(ctx));
  ctx.queue.register(CustomName.build(ctx));
  const id = await download_worker.performLater(ctx, { userGuid: 'foo' });
  assert.is(id, undefined);
  assert.equal(ran, [{ userGuid: 'foo' }]);
  try {
    await CustomName.performLater(ctx, { n: -1 });
    assert.unreachable('should throw');
  } catch (err) {
    assert.match((err as Error).message, 'negative -1');
  }
  try {
    await CustomName.performLater(ctx, { n: 1n } as never);
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, ArgsError);
    assert.match((err as Error).message, 'Renamed: cannot enqueue: args.n is a BigInt (1n); pass it as a string');
  }
});

test('ForegroundBlocking runs jobs through the registry: an unregistered worker is an error naming connectWorkers', async () => {
  const ctx = testContext(undefined, 'ForegroundBlocking');
  try {
    await download_worker.performLater(ctx, { userGuid: 'foo' });
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, RegistryError);
    assert.match((err as Error).message, 'DownloadWorker is not registered, and ForegroundBlocking runs jobs inline');
    assert.match(
      (err as Error).message,
      'Register it in connectWorkers in src/app.ts: queue.register(download_worker.build(ctx))',
    );
  }
  assert.equal(ran, [], 'nothing ran');
});

test('registering two workers under one name is an error naming both', () => {
  const ctx = testContext(undefined, 'ForegroundBlocking');
  class Renamed extends BackgroundWorker<unknown> {
    async perform(): Promise<void> {}
  }
  ctx.queue.register(CustomName.build(ctx));
  try {
    ctx.queue.register(Renamed.build(ctx));
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, RegistryError);
    assert.match(
      (err as Error).message,
      "Two workers are registered under the name 'Renamed': CustomName and Renamed.",
    );
  }
});

function appWith(...workers: Array<{ build(ctx: AppContext): BackgroundWorker<never> }>): Hooks {
  return {
    connectWorkers(ctx: AppContext, queue: Queue) {
      for (const worker of workers) queue.register(worker.build(ctx));
    },
  };
}

test('BackgroundAsync runs jobs in-process on a pool bounded by num_workers; errors are logged, not thrown', async () => {
  const errors: string[] = [];
  // BackgroundAsync reads num_workers from queue:, which needs no kind or uri in this mode.
  const config = validateConfig({ workers: { mode: 'BackgroundAsync' }, queue: { num_workers: 3 } }, 'test.yaml');
  const app = await boot(appWith(SlowCounter, CustomName), { config, logger: recordingLogger(errors) });
  SlowCounter.peak = 0;
  const ids = await SlowCounter.performLaterMany(
    app.ctx,
    Array.from({ length: 9 }, () => ({ ms: 30 })),
  );
  assert.is(ids.length, 9);
  assert.type(ids[0].id, 'string');
  assert.ok(ids.every((result) => result.added));
  assert.is(await CustomName.performLater(app.ctx, { n: -5 }).then(() => 'resolved'), 'resolved');
  const deadline = Date.now() + 3000;
  while (ran.length < 9 && Date.now() < deadline) await sleep(10);
  await sleep(50);
  await app.shutdown();
  assert.is(ran.length, 9);
  assert.is(SlowCounter.peak, 3, 'never more than num_workers at once');
  assert.ok(
    errors.some((line) => line.includes('negative -5')),
    'the failure was logged',
  );
});

test('BackgroundAsync refuses a worker that is not registered: nothing in this process would run it', async () => {
  const config = validateConfig({ workers: { mode: 'BackgroundAsync' } }, 'test.yaml');
  const app = await boot(appWith(SlowCounter), { config, logger: recordingLogger() });
  try {
    await CustomName.performLater(app.ctx, { n: 1 });
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, RegistryError);
    assert.match(
      (err as Error).message,
      'Renamed is not registered, and in BackgroundAsync mode jobs run in this process only',
    );
    assert.match((err as Error).message, 'queue.register(CustomName.build(ctx))');
  } finally {
    await app.shutdown();
  }
});

test('a worker whose retry() or timeoutMs() makes no sense is refused at register', () => {
  const ctx = testContext(undefined, 'ForegroundBlocking');
  class HalfRetry extends BackgroundWorker<unknown> {
    static override retry() {
      return { attempts: 3 } as never;
    }
    async perform(): Promise<void> {}
  }
  class ZeroTimeout extends BackgroundWorker<unknown> {
    static override timeoutMs() {
      return 0;
    }
    async perform(): Promise<void> {}
  }
  assert.throws(
    () => ctx.queue.register(HalfRetry.build(ctx)),
    /HalfRetry\.retry\(\) returned \{"attempts":3\}; expected \{ attempts: a whole number >= 1/,
  );
  assert.throws(
    () => ctx.queue.register(ZeroTimeout.build(ctx)),
    /ZeroTimeout\.timeoutMs\(\) returned 0; expected ms > 0/,
  );
});

test('an attempt past timeoutMs is aborted through its signal, then failed and retried', async () => {
  const { InProcessBackend } = await import('../runtime/src/internals.js');
  const { runUntil } = await import('./queue/helpers.js');
  class Stuck extends BackgroundWorker<{ n: number }> {
    static override timeoutMs() {
      return 100;
    }
    static override retry() {
      return { attempts: 2, backoffMs: 10, maxBackoffMs: 10 };
    }
    async perform(_args: { n: number }, signal: AbortSignal): Promise<void> {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      ran.push({ aborted: String(signal.reason) });
    }
  }
  const backend = new InProcessBackend();
  const ctx = testContext(backend);
  ctx.queue.register(Stuck.build(ctx));
  const id = (await Stuck.performLater(ctx, { n: 1 }))!;
  const status = async () => (await backend.list({}))[0];
  await runUntil(ctx, async () => (await status()).status === 'failed', { timeoutMs: 3000 });
  const job = await status();
  assert.is(job.id, id);
  assert.is(job.status, 'failed');
  assert.is(job.attempts, 2);
  assert.match(job.last_error ?? '', 'Stuck ran longer than its timeout of 100 ms.');
  assert.equal(ran, [
    { aborted: 'Error: Stuck ran longer than its timeout of 100 ms.' },
    { aborted: 'Error: Stuck ran longer than its timeout of 100 ms.' },
  ]);
});

test('a job never gets a signal another job aborted or left a listener on; an untouched one is handed on', async () => {
  const { InProcessBackend } = await import('../runtime/src/internals.js');
  const { runUntil } = await import('./queue/helpers.js');
  const seen: Array<{ step: string; signal: AbortSignal; aborted: boolean }> = [];
  class Steps extends BackgroundWorker<{ step: string }> {
    static override timeoutMs() {
      return 50;
    }
    static override retry() {
      return { attempts: 1, backoffMs: 10, maxBackoffMs: 10 };
    }
    async perform({ step }: { step: string }, signal: AbortSignal): Promise<void> {
      seen.push({ step, signal, aborted: signal.aborted });
      if (step === 'listens') signal.addEventListener('abort', () => undefined);
      if (step === 'onabort') signal.onabort = () => undefined;
      if (step === 'times out') await new Promise((resolve) => signal.addEventListener('abort', resolve));
    }
  }
  const backend = new InProcessBackend();
  const ctx = testContext(backend);
  ctx.queue.register(Steps.build(ctx));
  const steps = [
    'listens',
    'after listens',
    'onabort',
    'after onabort',
    'times out',
    'after timeout',
    'plain',
    'after plain',
  ];
  for (const step of steps) await Steps.performLater(ctx, { step });
  await runUntil(ctx, () => seen.length === steps.length, { concurrency: 1, timeoutMs: 3000 });
  const of = (step: string) => seen.find((entry) => entry.step === step)!;
  assert.equal(
    seen.map((entry) => entry.step),
    steps,
  );
  assert.ok(
    seen.every((entry) => !entry.aborted || entry.step === 'times out'),
    'no job starts with an aborted signal',
  );
  assert.is.not(of('after listens').signal, of('listens').signal, 'a listener left on it: not handed on');
  assert.is.not(of('after onabort').signal, of('onabort').signal, 'onabort set on it: not handed on');
  assert.ok(of('times out').signal.aborted);
  assert.is.not(of('after timeout').signal, of('times out').signal, 'aborted: not handed on');
  assert.is(of('after plain').signal, of('plain').signal, 'untouched: handed on');
});

test('BackgroundQueue without a store in queue: is a config error with the fix', () => {
  try {
    validateConfig({ workers: { mode: 'BackgroundQueue' }, queue: { num_workers: 2 } }, 'config/development.yaml');
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.match(
      (err as Error).message,
      'config/development.yaml: queue.kind: is missing: workers.mode is BackgroundQueue, which stores jobs in a queue',
    );
  }
});

test('queue.max_args_bytes from the config bounds performLater in every mode, nothing run or enqueued', async () => {
  for (const mode of ['ForegroundBlocking', 'BackgroundAsync'] as const) {
    const config = validateConfig({ workers: { mode }, queue: { max_args_bytes: '1KiB' } }, 'test.yaml');
    const booted = await boot(
      { connectWorkers: async (ctx, queue) => queue.register(download_worker.build(ctx)) },
      {
        config,
      },
    );
    try {
      assert.is(booted.ctx.queue.maxArgsBytes, 1024, mode);
      await download_worker.performLater(booted.ctx, { userGuid: 'x'.repeat(1000) });
      try {
        await download_worker.performLater(booted.ctx, { userGuid: 'x'.repeat(1024) });
        assert.unreachable(`${mode}: should refuse`);
      } catch (err) {
        assert.instance(err, ArgsError);
        assert.match(
          (err as Error).message,
          'DownloadWorker: cannot enqueue: the args are 1039 bytes (1.0 KiB) as JSON, over the limit of 1 KiB (queue.max_args_bytes).',
        );
      }
    } finally {
      await booted.shutdown();
    }
  }
  assert.is(ran.length, 2, 'in each mode, only the job within the limit ran');
});

test('an app without connectWorkers is refused', async () => {
  const config = validateConfig({ workers: { mode: 'ForegroundBlocking' } }, 'test.yaml');
  try {
    await boot({} as Hooks, { config });
    assert.unreachable('should throw');
  } catch (err) {
    assert.match((err as Error).message, 'The app has no connectWorkers(ctx, queue) hook');
  }
});

// argsSchema, bad keys and bad priorities on every store: test/queue/contract.ts.
test('argsSchema in ForegroundBlocking: args are checked before the job runs inline', async () => {
  const schema = z.object({ userGuid: z.string().min(1) });
  class Validated extends BackgroundWorker<z.output<typeof schema>> {
    static override argsSchema = schema;
    async perform(): Promise<void> {
      assert.unreachable('args that fail the schema must not run');
    }
  }
  const foreground = testContext(undefined, 'ForegroundBlocking');
  foreground.queue.register(Validated.build(foreground));
  const refused = await Validated.performLater(foreground, { userGuid: '' }).then(
    () => 'ran',
    (err: Error) => err.message,
  );
  assert.match(refused, 'Validated: the args do not match its argsSchema: userGuid: ');
});

test('durations and backoff', () => {
  assert.is(parseDuration('500ms'), 500);
  assert.is(parseDuration('30s'), 30_000);
  assert.is(parseDuration('5m'), 300_000);
  assert.is(parseDuration('2h'), 7_200_000);
  assert.is(parseDuration('1d'), 86_400_000);
  assert.is(parseDuration(250), 250);
  assert.throws(() => parseDuration('soon', 'delay'), /delay: expected milliseconds >= 0 or a duration such as 500ms/);
  const policy = { attempts: 10, backoffMs: 1000, maxBackoffMs: 5000 };
  assert.is(
    backoffDelay(policy, 1, () => 0),
    500,
  );
  assert.is(
    backoffDelay(policy, 1, () => 1),
    1000,
  );
  assert.is(
    backoffDelay(policy, 3, () => 1),
    4000,
  );
  assert.is(
    backoffDelay(policy, 9, () => 1),
    5000,
    'capped',
  );
  assert.is(
    backoffDelay(policy, 9, () => 0),
    2500,
    'jitter keeps at least half',
  );
});

test.run();
