// `loco start --worker` on each store (a SQLite file, a Postgres schema, a Redis prefix) facing
// job code that misbehaves: a job that never settles meets the graceful-shutdown timeout (handed
// back, hooks run, exit code 124), and a promise rejected after `perform` returned is logged with
// its worker while the process keeps serving (or ends it, with `unhandled_rejection: exit`).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FORCED_EXIT_CODE } from '../../runtime/src/cli/start.js';
import { Queue, type QueueBackend } from '../../runtime/src/internals.js';
import { exited, openStore, ROOT, sleep, testStoreConfig } from '../queue/helpers.js';
import { postgresStore, redisStore, sqliteStore, type TestStore } from '../stores.js';

const CLI = path.join(ROOT, 'runtime/src/cli/main.ts');
const TSX = import.meta.resolve('tsx');

const APP_TS = `import { BackgroundWorker, type Hooks } from ${JSON.stringify(path.join(ROOT, 'runtime/src/index.ts'))};

/** Never settles; says when its signal aborts. */
export class StuckWorker extends BackgroundWorker<Record<string, never>> {
  async perform(_args: Record<string, never>, signal: AbortSignal) {
    signal.addEventListener('abort', () => console.log('stuck aborted: ' + signal.reason.message));
    console.log('stuck start');
    await new Promise(() => {});
  }
}

/** Returns at once, leaving behind a promise that rejects a little later. */
export class LeakyWorker extends BackgroundWorker<Record<string, never>> {
  async perform() {
    setTimeout(() => { Promise.reject(new Error('left behind')); }, 20);
  }
}

/** Says it ran. */
export class NoteWorker extends BackgroundWorker<{ n: number }> {
  async perform(args: { n: number }) { console.log('note ' + args.n); }
}

export const App: Hooks = {
  connectWorkers(ctx, queue) {
    queue.register(StuckWorker.build(ctx));
    queue.register(LeakyWorker.build(ctx));
    queue.register(NoteWorker.build(ctx));
  },
  async onShutdown() { console.log('shutdown hook ran'); },
};
`;

function makeApp(store: TestStore, workers: string): string {
  const app = mkdtempSync(path.join(os.tmpdir(), `loco-stop-${store.name}-`));
  mkdirSync(path.join(app, 'config'));
  mkdirSync(path.join(app, 'src'));
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'stop-test', private: true, type: 'module' }));
  writeFileSync(path.join(app, 'src/app.ts'), APP_TS);
  writeFileSync(
    path.join(app, 'config/development.yaml'),
    `workers:\n  mode: BackgroundQueue\n${workers}queue:\n  kind: ${store.kind}\n  uri: "${store.uri()}"\n` +
      '  num_workers: 2\n  poll_interval_sec: 0.05\nlogger:\n  format: compact\n',
  );
  return app;
}

interface Running {
  child: ChildProcess;
  output: () => string;
}

function startWorker(app: string): Running {
  const child = spawn(process.execPath, ['--import', TSX, CLI, 'start', '--worker'], {
    cwd: app,
    env: { ...process.env, LOCO_ENV: 'development', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

async function waitFor(running: Running, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(running.output())) {
    if (Date.now() > deadline || running.child.exitCode !== null) {
      throw new Error(`did not see ${pattern}; output:\n${running.output()}`);
    }
    await sleep(20);
  }
}

function runStopSuite(store: TestStore): void {
  const test = suite(`stop: ${store.name}`);
  let backend: QueueBackend;
  let queue: Queue;
  let app = '';
  let worker: Running | undefined;

  test.before.each(async () => {
    store.fresh();
    backend = await openStore(testStoreConfig({ kind: store.kind, uri: store.uri() }));
    queue = new Queue('BackgroundQueue', backend);
  });
  test.after.each(async () => {
    if (worker && worker.child.exitCode === null && worker.child.signalCode === null) {
      worker.child.kill('SIGKILL');
      await exited(worker.child);
    }
    worker = undefined;
    await backend.close();
    await store.drop();
    rmSync(app, { recursive: true, force: true });
  });

  test('a job that never settles: after the shutdown timeout it is handed back, hooks run, exit code 124', async () => {
    app = makeApp(store, '  shutdown_timeout_sec: 1\n');
    const [{ id }] = await queue.enqueueByName('StuckWorker', [{}], { maxAttempts: 3 });
    worker = startWorker(app);
    await waitFor(worker, /stuck start/);
    const before = await backend.get(id!);
    assert.is(before?.status, 'processing');
    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    assert.is(await exited(worker.child), FORCED_EXIT_CODE, worker.output());
    const took = Date.now() - signalledAt;
    assert.ok(took >= 900, `waited for the timeout (${took} ms)`);
    assert.ok(took < 15_000, `exited soon after it (${took} ms)`);
    assert.match(worker.output(), /stuck aborted: StuckWorker was handed back to the queue[\s\S]*shutdown hook ran/);
    assert.match(worker.output(), /stopped, forced: 1 job/);
    const after = await backend.get(id!);
    assert.is(after?.status, 'queued', 'handed back, not left to its lease');
    assert.ok(after!.run_at <= Date.now(), 'due at once');
    assert.match(after!.last_error ?? '', /Interrupted: the worker shut down/);
    assert.is(after!.attempts, 1, 'the interrupted attempt is recorded');
  });

  test('a rejection left behind by a job is logged with its worker, and the process keeps serving', async () => {
    app = makeApp(store, '');
    await queue.enqueueByName('LeakyWorker', [{}], {});
    worker = startWorker(app);
    await waitFor(worker, /nothing handled it, left by job \S+ \(LeakyWorker, attempt 1\)[\s\S]*left behind/);
    await queue.enqueueByName('NoteWorker', [{ n: 7 }], {});
    await waitFor(worker, /note 7/);
    assert.is(worker.child.exitCode, null, 'still running');
    worker.child.kill('SIGTERM');
    assert.is(await exited(worker.child), 0);
  });

  test('with unhandled_rejection: exit, such a rejection ends the process with code 1', async () => {
    app = makeApp(store, '  unhandled_rejection: exit\n');
    await queue.enqueueByName('LeakyWorker', [{}], {});
    worker = startWorker(app);
    assert.is(await exited(worker.child), 1);
    assert.match(worker.output(), /LeakyWorker[\s\S]*exiting \(workers.unhandled_rejection: exit\)/);
  });

  test.run();
}

runStopSuite(sqliteStore('stop'));
runStopSuite(postgresStore('stop'));
runStopSuite(redisStore('stop'));
