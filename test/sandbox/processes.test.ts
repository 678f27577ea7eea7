// Sandboxed jobs and the watchdog across real worker processes sharing a SQLite store:
// - a sandboxed job that spins forever is terminated at its timeout, and its process goes on
//   serving other jobs and stops cleanly on SIGTERM;
// - a sandboxed job busy for several leases keeps its lease (the main loop is free to send
//   heartbeats), so the other process never takes it;
// - a job that blocks the main event loop is seen by the watchdog, which kills its process; the
//   job runs again in another process once its lease has run out.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Queue, type QueueBackend } from '../../runtime/src/internals.js';
import { exited, openStore, sleep, spawnWorkerProcess, testStoreConfig, waitUntil } from '../queue/helpers.js';
import { sqliteStore } from '../stores.js';

const test = suite('sandbox and watchdog across processes');
const store = sqliteStore('sandbox');
let backend: QueueBackend;
let countDir: string;

test.before.each(async () => {
  store.fresh();
  backend = await openStore(testStoreConfig({ kind: 'Sqlite', uri: store.uri() }));
  countDir = mkdtempSync(path.join(os.tmpdir(), 'loco-sandbox-count-'));
});
test.after.each(async () => {
  await backend.close();
  await store.drop();
  rmSync(countDir, { recursive: true, force: true });
});

const queueConfig = () => testStoreConfig({ kind: 'Sqlite', uri: store.uri() });
const enqueue = async (name: string, argsList: unknown[], maxAttempts?: number) =>
  (await new Queue('BackgroundQueue', backend).enqueueByName(name, argsList, { maxAttempts })).map((job) => job.id!);
/** The lines of this test's `<prefix>-<pid>.txt` files, per file. */
const lines = (prefix: string): string[][] =>
  readdirSync(countDir)
    .filter((file) => file.startsWith(`${prefix}-`))
    .map((file) => readFileSync(path.join(countDir, file), 'utf8').split('\n').filter(Boolean));
const worker = (env: Record<string, string>) =>
  spawnWorkerProcess(queueConfig(), { LOCO_TEST_COUNT_DIR: countDir, ...env }, /ready/);

test('a sandboxed endless loop times out; its process serves the other jobs meanwhile and stops on SIGTERM', async () => {
  const [spin] = await enqueue('SpinForeverWorker', [{ n: 1 }]);
  const counts = await enqueue(
    'CountWorker',
    Array.from({ length: 50 }, (_, n) => ({ n })),
  );
  const { child, output } = await worker({ LOCO_TEST_CONCURRENCY: '2', LOCO_TEST_LEASE_MS: '1000' });
  try {
    await waitUntil(async () => (await backend.get(spin))?.status === 'failed', 30_000);
    await waitUntil(async () => lines('count').flat().length === 50, 30_000);
    const job = await backend.get(spin);
    assert.match(job!.last_error!, 'SpinForeverWorker ran longer than its timeout of 300 ms.');
    assert.is(job!.attempts, 1);
    for (const id of counts) assert.is((await backend.get(id))?.status, 'completed');
  } finally {
    child.kill('SIGTERM');
  }
  assert.is(await exited(child), 0, `the worker stopped on SIGTERM; output:\n${output()}`);
  assert.match(output(), 'stopped');
});

test('a sandboxed job busy for several leases keeps its lease: the other process never runs it', async () => {
  const [busy] = await enqueue('BusySandboxWorker', [{ n: 7, ms: 2500 }], 3);
  // Lease 400 ms: without heartbeats the job would be reaped and run again within the 2.5 s.
  const env = { LOCO_TEST_CONCURRENCY: '2', LOCO_TEST_LEASE_MS: '400', LOCO_TEST_WATCHDOG_MS: '1000' };
  const workers = await Promise.all([worker(env), worker(env)]);
  try {
    await waitUntil(async () => (await backend.get(busy))?.status === 'completed', 30_000);
    await sleep(500);
  } finally {
    for (const { child } of workers) child.kill('SIGTERM');
  }
  const codes = await Promise.all(workers.map(({ child }) => exited(child)));
  assert.equal(codes, [0, 0], 'neither the watchdog nor anything else killed a process');
  const job = await backend.get(busy);
  assert.is(job?.attempts, 1, 'claimed once');
  assert.equal(lines('busy').flat(), ['7'], 'ran once, in one process');
});

test('the watchdog kills a process whose event loop is blocked, naming the job; the job runs again after the lease', async () => {
  const [blocked] = await enqueue('BlockMainWorker', [{ n: 3 }], 3);
  const first = await worker({ LOCO_TEST_CONCURRENCY: '2', LOCO_TEST_LEASE_MS: '1000', LOCO_TEST_WATCHDOG_MS: '800' });
  const started = Date.now();
  const timer = setTimeout(() => first.child.kill('SIGKILL'), 20_000);
  await exited(first.child);
  clearTimeout(timer);
  const blockedFor = Date.now() - started;
  assert.is(first.child.signalCode, 'SIGKILL', `killed by its watchdog; output:\n${first.output()}`);
  assert.match(first.output(), `loco watchdog: the event loop of process ${first.child.pid} has been blocked for`);
  assert.match(first.output(), `BlockMainWorker (job ${blocked}, attempt 1)`);
  assert.ok(blockedFor < 15_000, `killed ${blockedFor} ms after it started (the test kills it at 20 s)`);
  assert.is((await backend.get(blocked))?.status, 'processing', 'left processing by the killed process');

  const second = await worker({ LOCO_TEST_CONCURRENCY: '2', LOCO_TEST_LEASE_MS: '1000', LOCO_TEST_WATCHDOG_MS: '800' });
  try {
    await waitUntil(async () => (await backend.get(blocked))?.status === 'completed', 30_000);
  } finally {
    second.child.kill('SIGTERM');
  }
  assert.is(await exited(second.child), 0);
  const job = await backend.get(blocked);
  assert.is(job?.attempts, 2, 'the lease ran out and the job ran again');
  assert.equal(lines('unblocked').flat(), ['3']);
});

test.run();
