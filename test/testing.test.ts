import { AssertionError } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundWorker, type Hooks, LocoError, RegistryError } from '../runtime/src/index.js';
import { bootTest } from '../runtime/src/testing.js';
import { ROOT } from './cli/helpers.js';

// config/test.yaml of this fixture app: ForegroundBlocking, as a new app's.
const root = path.join(ROOT, 'test/fixtures/apps/tasks-app');

const greeted: string[] = [];

interface GreetArgs {
  name: string;
  fail?: boolean;
  meta?: { lang: string; tags?: string[] };
}

class GreetWorker extends BackgroundWorker<GreetArgs> {
  async perform(args: GreetArgs): Promise<void> {
    if (args.fail) throw new Error(`cannot greet ${args.name}`);
    greeted.push(args.name);
  }
}

/** Enqueues a greeting per name, and itself again while `again` is above 0. */
class FanOutWorker extends BackgroundWorker<{ names: string[]; again?: number }> {
  async perform(args: { names: string[]; again?: number }): Promise<void> {
    for (const name of args.names) await GreetWorker.performLater(this.ctx, { name });
    if (args.again) await FanOutWorker.performLater(this.ctx, { names: [], again: args.again - 1 });
  }
}

class ForgottenWorker extends BackgroundWorker<{ n: number }> {
  async perform(): Promise<void> {}
}

const App: Hooks = {
  async connectWorkers(ctx, queue) {
    queue.register(GreetWorker.build(ctx));
    queue.register(FanOutWorker.build(ctx));
  },
};

async function withBoot(
  options: Parameters<typeof bootTest>[1],
  body: (boot: Awaited<ReturnType<typeof bootTest>>) => Promise<void>,
): Promise<void> {
  greeted.length = 0;
  const boot = await bootTest(App, { root, ...options });
  try {
    await body(boot);
  } finally {
    await boot.shutdown();
  }
}

function failure(action: () => unknown): AssertionError {
  try {
    action();
  } catch (error) {
    assert.instance(error, AssertionError);
    return error as AssertionError;
  }
  throw new Error('expected the assertion to fail');
}

test('by default jobs run inline (config/test.yaml) and are recorded with name, args, id and outcome', async () => {
  await withBoot({}, async (boot) => {
    const id = await GreetWorker.performLater(boot.ctx, { name: 'foo' });
    assert.equal(greeted, ['foo']);
    assert.type(id, 'string');
    assert.equal(boot.enqueued(), [{ name: 'GreetWorker', args: { name: 'foo' }, id }]);
    assert.equal(boot.performed(GreetWorker), [
      { name: 'GreetWorker', args: { name: 'foo' }, id, outcome: 'completed' },
    ]);
    assert.equal(boot.performed(FanOutWorker), []);
    const [job] = boot.assertPerformed(GreetWorker, { name: 'foo' }, { count: 1 });
    assert.is(job.id, id);
    boot.assertEnqueued('GreetWorker');
  });
});

test('a job that throws is recorded as failed, its error reaches the caller, and it does not count as performed', async () => {
  await withBoot({}, async (boot) => {
    let thrown: unknown;
    await GreetWorker.performLater(boot.ctx, { name: 'bob', fail: true }).catch((error) => (thrown = error));
    assert.is((thrown as Error).message, 'cannot greet bob');
    const [job] = boot.performed(GreetWorker);
    assert.is(job.outcome, 'failed');
    assert.is(job.error, thrown);
    const error = failure(() => boot.assertPerformed(GreetWorker, { name: 'bob' }));
    assert.match(error.message, 'Expected a GreetWorker job performed with args containing {"name":"bob"}; found 0.');
    assert.match(error.message, 'GreetWorker {"name":"bob","fail":true} (failed: cannot greet bob)');
  });
});

test('a worker missing from connectWorkers fails performLater, and nothing is recorded', async () => {
  for (const jobs of ['config', 'queue'] as const) {
    await withBoot({ jobs }, async (boot) => {
      let thrown: unknown;
      await ForgottenWorker.performLater(boot.ctx, { n: 1 }).catch((error) => (thrown = error));
      assert.instance(thrown, RegistryError, jobs);
      assert.match((thrown as Error).message, 'ForgottenWorker is not registered');
      assert.equal(boot.enqueued(), [], jobs);
      assert.throws(() => boot.assertEnqueued(ForgottenWorker));
    });
  }
});

test('assertions match args by the keys they name, recursively; arrays and values must be equal', async () => {
  await withBoot({}, async (boot) => {
    await GreetWorker.performLater(boot.ctx, { name: 'ann', meta: { lang: 'fr', tags: ['a', 'b'] } });
    boot.assertPerformed(GreetWorker, { meta: { lang: 'fr' } });
    boot.assertPerformed(GreetWorker, { name: 'ann', meta: { tags: ['a', 'b'] } });
    failure(() => boot.assertPerformed(GreetWorker, { meta: { tags: ['a'] } }));
    failure(() => boot.assertPerformed(GreetWorker, { meta: { lang: 'fr', region: 'CA' } }));
    failure(() => boot.assertPerformed(FanOutWorker));
  });
});

test('a failed assertion lists the jobs and diffs the closest one against the expectation', async () => {
  await withBoot({}, async (boot) => {
    await GreetWorker.performLater(boot.ctx, { name: 'foo', meta: { lang: 'en' } });
    await GreetWorker.performLater(boot.ctx, { name: 'bar', meta: { lang: 'fr' } });
    const error = failure(() => boot.assertEnqueued(GreetWorker, { name: 'bar', meta: { lang: 'de' } }));
    const lines = error.message.split('\n');
    assert.is(
      lines[0],
      'Expected a GreetWorker job enqueued with args containing {"name":"bar","meta":{"lang":"de"}}; found 0.',
    );
    assert.is(lines[1], 'Jobs enqueued (2):');
    assert.is(lines[2], '  GreetWorker {"name":"foo","meta":{"lang":"en"}}');
    assert.is(lines[3], '  GreetWorker {"name":"bar","meta":{"lang":"fr"}}');
    assert.match(lines[4], 'closest GreetWorker job');
    // The closest is bar's (its name agrees); the diff marks the language.
    const diff = lines.slice(5).join('\n');
    assert.match(diff, /\+\s+lang: 'fr'/);
    assert.match(diff, /-\s+lang: 'de'/);
    assert.not.match(diff, /foo/);
  });
});

test('count asks for exactly that many matching jobs, 0 included', async () => {
  await withBoot({}, async (boot) => {
    await GreetWorker.performLater(boot.ctx, { name: 'a' });
    await GreetWorker.performLater(boot.ctx, { name: 'a' });
    assert.is(boot.assertEnqueued(GreetWorker, { name: 'a' }, { count: 2 }).length, 2);
    assert.match(
      failure(() => boot.assertEnqueued(GreetWorker, { name: 'a' }, { count: 1 })).message,
      'Expected exactly 1 GreetWorker job enqueued with args containing {"name":"a"}; found 2.',
    );
    boot.assertEnqueued(FanOutWorker, undefined, { count: 0 });
    failure(() => boot.assertEnqueued(GreetWorker, undefined, { count: 0 }));
    assert.throws(() => boot.assertEnqueued(GreetWorker, undefined, { count: -1 }), /whole number/);
  });
});

test("jobs: 'queue' records jobs with ids without running them; performEnqueued runs them and what they enqueue", async () => {
  await withBoot({ jobs: 'queue' }, async (boot) => {
    const id = await FanOutWorker.performLater(boot.ctx, { names: ['x', 'y'] });
    assert.type(id, 'string');
    assert.equal(greeted, []);
    assert.equal(boot.performed(), []);
    const [job] = boot.assertEnqueued(FanOutWorker, { names: ['x', 'y'] });
    assert.is(job.id, id);
    assert.is(await boot.performEnqueued(), 3);
    assert.equal(greeted, ['x', 'y']);
    assert.equal(
      boot.performed().map((done) => [done.name, done.outcome]),
      [
        ['FanOutWorker', 'completed'],
        ['GreetWorker', 'completed'],
        ['GreetWorker', 'completed'],
      ],
    );
    boot.assertEnqueued(GreetWorker, { name: 'y' });
    assert.is(await boot.performEnqueued(), 0);
  });
});

test('performEnqueued stops at its limit when jobs keep enqueuing jobs, and only runs one worker when asked', async () => {
  await withBoot({ jobs: 'queue' }, async (boot) => {
    await FanOutWorker.performLater(boot.ctx, { names: [], again: 1000 });
    let thrown: unknown;
    await boot.performEnqueued({ limit: 5 }).catch((error) => (thrown = error));
    assert.instance(thrown, LocoError);
    assert.match((thrown as Error).message, 'performEnqueued ran 5 jobs and 1 are still enqueued (next: FanOutWorker)');
    boot.clearJobs();
    await FanOutWorker.performLater(boot.ctx, { names: ['p'] });
    await GreetWorker.performLater(boot.ctx, { name: 'q' });
    assert.is(await boot.performEnqueued({ only: GreetWorker }), 1);
    assert.equal(greeted, ['q']);
    assert.is(await boot.performEnqueued(), 2);
    assert.equal(greeted, ['q', 'p']);
  });
});

test("performEnqueued throws a job's error at once and leaves the later jobs enqueued", async () => {
  await withBoot({ jobs: 'queue' }, async (boot) => {
    await GreetWorker.performLater(boot.ctx, { name: 'bad', fail: true });
    await GreetWorker.performLater(boot.ctx, { name: 'good' });
    let thrown: unknown;
    await boot.performEnqueued().catch((error) => (thrown = error));
    assert.is((thrown as Error).message, 'cannot greet bad');
    assert.equal(greeted, []);
    assert.is(await boot.performEnqueued(), 1);
    assert.equal(greeted, ['good']);
  });
});

test('performEnqueued without the queue mode says how to get it; two test boots share no jobs', async () => {
  await withBoot({}, async (boot) => {
    let thrown: unknown;
    await boot.performEnqueued().catch((error) => (thrown = error));
    assert.instance(thrown, LocoError);
    assert.match((thrown as Error).message, "Boot with { jobs: 'queue' }");
  });
  const first = await bootTest(App, { root, jobs: 'queue' });
  const second = await bootTest(App, { root, jobs: 'queue' });
  try {
    await GreetWorker.performLater(first.ctx, { name: 'one' });
    assert.equal(second.enqueued(), []);
    assert.is(await second.performEnqueued(), 0);
    assert.is(first.enqueued().length, 1);
  } finally {
    await first.shutdown();
    await second.shutdown();
  }
});

test('with a store in the config (BackgroundQueue), jobs are recorded with the ids the store gave', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'loco-testing-'));
  mkdirSync(path.join(dir, 'config'));
  writeFileSync(
    path.join(dir, 'config/test.yaml'),
    `workers:\n  mode: BackgroundQueue\nqueue:\n  kind: Sqlite\n  uri: "sqlite://${dir}/queue.sqlite?mode=rwc"\n`,
  );
  greeted.length = 0;
  const boot = await bootTest(App, { root: dir });
  try {
    const id = await GreetWorker.performLater(boot.ctx, { name: 'stored' });
    assert.equal(boot.enqueued(), [{ name: 'GreetWorker', args: { name: 'stored' }, id }]);
    assert.is((await boot.queue.job(id as string))?.status, 'queued');
    assert.equal(boot.performed(), []);
    assert.equal(greeted, []);
  } finally {
    await boot.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
