// Several worker processes draining one shared store: every job runs exactly once, and with one
// process SIGKILLed mid-drain, every job still runs at least once and none is left behind.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PREFETCH_PER_SLOT, Queue, type QueueBackend } from '../../runtime/src/internals.js';
import type { BackendUnderTest } from './contract.js';
import { exited, sleep, spawnWorkerProcess } from './helpers.js';

const JOBS = 3000;
const PROCESSES = 3;

export function runMultiProcess(target: BackendUnderTest): void {
  const test = suite(`multi-process: ${target.name}`);
  let backend: QueueBackend;
  let countDir: string;

  test.before.each(async () => {
    backend = await target.open();
    countDir = mkdtempSync(path.join(os.tmpdir(), 'loco-count-'));
  });
  test.after.each(async () => {
    await backend.close();
    await target.cleanup();
    rmSync(countDir, { recursive: true, force: true });
  });

  const enqueue = () =>
    new Queue('BackgroundQueue', backend).enqueueByName(
      'CountWorker',
      Array.from({ length: JOBS }, (_, n) => ({ n })),
      { maxAttempts: 5 },
    );
  const counted = (): number[] =>
    readdirSync(countDir).flatMap((file) =>
      readFileSync(path.join(countDir, file), 'utf8').split('\n').filter(Boolean).map(Number),
    );
  const start = (processes = PROCESSES, concurrency = 5, leaseMs = 1000) =>
    Promise.all(
      Array.from({ length: processes }, () =>
        spawnWorkerProcess(
          target.queueConfig(),
          {
            LOCO_TEST_COUNT_DIR: countDir,
            LOCO_TEST_CONCURRENCY: String(concurrency),
            LOCO_TEST_LEASE_MS: String(leaseMs),
          },
          /ready/,
        ),
      ),
    );
  const waitForCompleted = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const stats = await backend.stats();
      const completed = stats.filter((row) => row.status === 'completed').reduce((sum, row) => sum + row.count, 0);
      if (completed === JOBS || Date.now() > deadline) return stats;
      await sleep(100);
    }
  };

  test(`${PROCESSES} worker processes drain ${JOBS} jobs, each exactly once`, async () => {
    await enqueue();
    // Exactly once holds while no lease runs out: a lease of 5 s, which an outcome waiting for a
    // slow write (it has no heartbeat) does not outlive on a loaded machine, as it might 1 s.
    const workers = await start(PROCESSES, 5, 5000);
    const stats = await waitForCompleted(60_000);
    for (const { child } of workers) child.kill('SIGTERM');
    await Promise.all(workers.map(({ child }) => exited(child)));
    assert.equal(stats, [{ name: 'CountWorker', status: 'completed', count: JOBS }]);
    const runs = counted();
    assert.is(runs.length, JOBS, 'each job ran once');
    assert.is(new Set(runs).size, JOBS);
  });

  test(`one of ${PROCESSES} processes SIGKILLed mid-drain: every job completes at least once, none left behind`, async () => {
    await enqueue();
    const workers = await start();
    while (counted().length < JOBS / 4) await sleep(5);
    workers[0].child.kill('SIGKILL');
    const stats = await waitForCompleted(60_000);
    for (const { child } of workers.slice(1)) child.kill('SIGTERM');
    await Promise.all(workers.map(({ child }) => exited(child)));
    assert.equal(stats, [{ name: 'CountWorker', status: 'completed', count: JOBS }], 'none left queued or processing');
    assert.is(new Set(counted()).size, JOBS, 'every job ran');
  });

  test('a worker SIGKILLed mid-drain re-runs at most twice its slots of jobs: outcomes do not pile up', async () => {
    const slots = 2;
    await enqueue();
    const [victim] = await start(1, slots);
    while (counted().length < JOBS / 4) await sleep(2);
    victim.child.kill('SIGKILL');
    await exited(victim.child);
    const processing = (await backend.stats())
      .filter((row) => row.status === 'processing')
      .reduce((sum, row) => sum + row.count, 0);
    const [rescuer] = await start(1, 5);
    const stats = await waitForCompleted(60_000);
    rescuer.child.kill('SIGTERM');
    await exited(rescuer.child);
    assert.equal(stats, [{ name: 'CountWorker', status: 'completed', count: JOBS }], 'none lost or stuck');
    const runs = counted();
    const reruns = runs.length - new Set(runs).size;
    // Running or unrecorded: at most twice the slots; claimed ahead and not started (they never
    // ran, so they cannot run twice): at most `prefetch`, PREFETCH_PER_SLOT times the slots by default.
    const most = (2 + PREFETCH_PER_SLOT) * slots;
    assert.ok(processing <= most, `${processing} jobs were processing when it was killed (at most ${most})`);
    assert.ok(reruns <= 2 * slots, `${reruns} jobs ran twice (at most ${2 * slots})`);
  });

  test.run();
}
