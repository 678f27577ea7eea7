// `loco start` as a user runs it: a real child process, a real HTTP server, a real SQLite file.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { QueueBackend } from '../../runtime/src/internals.js';
import { exited, newJob, openStore, ROOT, sleep, testStoreConfig, waitUntil } from '../queue/helpers.js';

const CLI = path.join(ROOT, 'runtime/src/cli/main.ts');
const app = mkdtempSync(path.join(os.tmpdir(), 'loco-start-'));
const dbFile = path.join(app, 'queue.sqlite');
const runtime = path.join(ROOT, 'runtime/src/index.ts');

mkdirSync(path.join(app, 'config'));
mkdirSync(path.join(app, 'src'));
// No appName in the App: the name shown by /_ping and in logs comes from package.json.
writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'start-test', private: true, type: 'module' }));
writeFileSync(
  path.join(app, 'config/development.yaml'),
  `server:\n  port: 5150\nworkers:\n  mode: BackgroundQueue\nqueue:\n  kind: Sqlite\n  uri: "{{ get_env(name="SQLTQ_URL", default="sqlite://queue.sqlite?mode=rwc") }}"\n  num_workers: 2\n  poll_interval_sec: 0.05\n`,
);
// Its own store: the other tests leave a job processing in queue.sqlite.
const watchdogDb = path.join(app, 'watchdog.sqlite');
writeFileSync(
  path.join(app, 'config/watchdog.yaml'),
  'workers:\n  mode: BackgroundQueue\n  watchdog_sec: 1\nqueue:\n  kind: Sqlite\n  uri: "sqlite://watchdog.sqlite?mode=rwc"\n  num_workers: 2\n  poll_interval_sec: 0.05\n  lease_sec: 5\n',
);
writeFileSync(
  path.join(app, 'src/app.ts'),
  `import { BackgroundWorker, type AppContext, type Hooks, type Queue } from ${JSON.stringify(runtime)};
import type { Hono } from 'hono';

export class NapWorker extends BackgroundWorker<{ ms: number }> {
  async perform(args: { ms: number }) {
    console.log('nap start ' + args.ms);
    await new Promise((resolve) => setTimeout(resolve, args.ms));
    console.log('nap done ' + args.ms);
  }
}

export class MailWorker extends BackgroundWorker<{ to: string }> {
  static override tags() { return ['email']; }
  async perform(args: { to: string }) { console.log('mail to ' + args.to); }
}

// Runs in a worker thread (static sandbox()); spins until its timeout terminates the thread.
export class SpinWorker extends BackgroundWorker<{ n: number }> {
  static override readonly moduleUrl = import.meta.url;
  static override sandbox() { return true; }
  static override timeoutMs() { return 300; }
  async perform() { for (;;) {} }
}

// Blocks the main thread: only the watchdog can end the process.
export class HogWorker extends BackgroundWorker<{ n: number }> {
  async perform() { console.log('hog start'); for (;;) {} }
}

export class App implements Hooks {
  routes(app: Hono, ctx: AppContext) {
    app.post('/naps', async (c) => {
      const { ms } = await c.req.json();
      return c.json({ jobId: await NapWorker.performLater(ctx, { ms }) }, 202);
    });
  }
  async connectWorkers(ctx: AppContext, queue: Queue) {
    queue.register(NapWorker.build(ctx));
    queue.register(MailWorker.build(ctx));
    queue.register(SpinWorker.build(ctx));
    queue.register(HogWorker.build(ctx));
  }
}
`,
);

interface Running {
  child: ChildProcess;
  output: () => string;
}

function loco(args: string[]): Running {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CLI, ...args], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

async function waitFor(running: Running, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = running.output().match(pattern);
    if (match) return match;
    if (Date.now() > deadline || running.child.exitCode !== null) {
      throw new Error(`did not see ${pattern}; output:\n${running.output()}`);
    }
    await sleep(20);
  }
}

let store: QueueBackend;
const status = async (id: string) => (await store.list({})).find((job) => job.id === id)?.status;
test.before(async () => {
  store = await openStore(testStoreConfig({ kind: 'Sqlite', uri: `sqlite://${dbFile}` }));
});

test('--worker, --server-and-worker and --all exclude each other', async () => {
  const run = loco(['start', '--worker', '--all']);
  assert.is(await exited(run.child), 1);
  assert.match(run.output(), "option '-w, --worker [tags]' cannot be used with option '-a, --all'");
});

test('the server answers /_ping and /_health, and its route enqueues a job that no worker runs', async () => {
  const server = loco(['start', '-p', '0', '-b', '127.0.0.1']);
  const [, url] = await waitFor(server, /listening on (http:\/\/\S+)/);
  const ping = await fetch(`${url}/_ping`);
  assert.equal(await ping.json(), { ok: true, app: 'start-test' });
  const health = await fetch(`${url}/_health`);
  assert.equal(await health.json(), { ok: true, mode: 'BackgroundQueue', queue: 'Sqlite' });
  const response = await fetch(`${url}/naps`, {
    method: 'POST',
    body: JSON.stringify({ ms: 1 }),
    headers: { 'content-type': 'application/json' },
  });
  assert.is(response.status, 202);
  const { jobId } = (await response.json()) as { jobId: string };
  await sleep(300);
  assert.is(await status(jobId), 'queued', 'the server alone runs no jobs');
  server.child.kill('SIGTERM');
  assert.is(await exited(server.child), 0);

  const worker = loco(['start', '--worker']);
  await waitFor(worker, /nap done 1/);
  assert.match(worker.output(), `worker started: Sqlite queue sqlite://${dbFile}, 2 at once, untagged jobs only`);
  await waitUntil(async () => (await status(jobId)) === 'completed', 10_000);
  assert.is(await status(jobId), 'completed');
  worker.child.kill('SIGTERM');
  assert.is(await exited(worker.child), 0);
});

test('a tagged worker process takes only jobs with its tags; an untagged one only untagged jobs', async () => {
  const job = (name: string, tags: string[], task_data: unknown) => newJob(name, { tags, task_data });
  const [{ id: mail }] = await store.enqueue([job('MailWorker', ['email'], { to: 'ada' })]);
  const [{ id: nap }] = await store.enqueue([job('NapWorker', [], { ms: 2 })]);
  const untagged = loco(['start', '--worker']);
  await waitFor(untagged, /nap done 2/);
  await sleep(200);
  assert.not.match(untagged.output(), 'mail to');
  assert.is(await status(mail), 'queued');
  untagged.child.kill('SIGTERM');
  await exited(untagged.child);

  const tagged = loco(['start', '--worker', 'report,email']);
  await waitFor(tagged, /mail to ada/);
  await waitUntil(async () => (await status(mail)) === 'completed', 10_000);
  assert.is(await status(mail), 'completed');
  assert.is(await status(nap), 'completed');
  tagged.child.kill('SIGTERM');
  assert.is(await exited(tagged.child), 0);
});

test('SIGTERM lets the running job finish before exiting; a second signal exits at once', async () => {
  const server = loco(['start', '--server-and-worker', '-p', '0', '-b', '127.0.0.1']);
  const [, url] = await waitFor(server, /listening on (http:\/\/\S+)/);
  const response = await fetch(`${url}/naps`, {
    method: 'POST',
    body: JSON.stringify({ ms: 800 }),
    headers: { 'content-type': 'application/json' },
  });
  const { jobId } = (await response.json()) as { jobId: string };
  await waitFor(server, /nap start 800/);
  server.child.kill('SIGTERM');
  assert.is(await exited(server.child), 0);
  assert.match(server.output(), /nap done 800[\s\S]*stopped\./);
  assert.is(await status(jobId), 'completed');

  const second = loco(['start', '--worker']);
  await waitFor(second, /worker started/);
  const id = (await store.enqueue([newJob('NapWorker', { task_data: { ms: 60_000 }, max_attempts: 3 })]))[0].id;
  await waitFor(second, /nap start 60000/);
  second.child.kill('SIGTERM');
  await waitFor(second, /SIGTERM: stopping/);
  second.child.kill('SIGTERM');
  assert.is(await exited(second.child), 130);
  assert.is(await status(id), 'processing', 'left to its lease');
});

test('loco start --worker: a sandboxed endless loop times out while other jobs run; the watchdog kills a blocked process', async () => {
  const watched = await openStore(testStoreConfig({ kind: 'Sqlite', uri: `sqlite://${watchdogDb}` }));
  const job = (name: string, task_data: unknown) => newJob(name, { task_data });
  const get = async (id: string) => (await watched.list({})).find((row) => row.id === id);
  try {
    const [{ id: spin }, { id: nap }] = await watched.enqueue([
      job('SpinWorker', { n: 1 }),
      job('NapWorker', { ms: 5 }),
    ]);
    const worker = loco(['start', '--worker', '-e', 'watchdog']);
    await waitFor(worker, /nap done 5/);
    const deadline = Date.now() + 20_000;
    while ((await get(spin))?.status !== 'failed' && Date.now() < deadline) await sleep(50);
    assert.match((await get(spin))?.last_error ?? '', 'SpinWorker ran longer than its timeout of 300 ms.');
    assert.is((await get(nap))?.status, 'completed');
    assert.is(worker.child.exitCode, null, 'the sandboxed loop did not take the process with it');

    const [{ id: hog }] = await watched.enqueue([job('HogWorker', { n: 2 })]);
    await waitFor(worker, /hog start/);
    const guard = setTimeout(() => worker.child.kill('SIGKILL'), 20_000);
    await exited(worker.child);
    clearTimeout(guard);
    assert.is(worker.child.signalCode, 'SIGKILL');
    assert.match(
      worker.output(),
      /loco watchdog: the event loop of process \d+ has been blocked for \d+ ms \(workers.watchdog_sec: 1 s\)/,
    );
    assert.match(worker.output(), `HogWorker (job ${hog}, attempt 1)`);
  } finally {
    await watched.close();
  }
});

test.after(async () => {
  await store.close();
  rmSync(app, { recursive: true, force: true });
});

test.run();
