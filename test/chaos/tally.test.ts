// The chaos drill's count: jobs run, re-run, lost and stuck, told from a real SQLite store and
// run files written as the fixture's worker writes them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { enqueueJobs, openStore, tally } from '../../chaos/tally.js';
import { succeeded } from '../../runtime/src/internals.js';

test('tally: completed with a run is fine, completed without one or cancelled is lost, queued is stuck', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loco-chaos-tally-'));
  const app = await openStore({
    kind: 'Sqlite',
    uri: `sqlite://${path.join(dir, 'queue.sqlite')}?mode=rwc`,
    runsDir: dir,
    logDir: dir,
    numWorkers: 1,
  });
  try {
    await enqueueJobs(app, 0, 5, 0);
    const backend = app.ctx.queue.backend!;
    const claimed = await backend.claim({
      names: ['ChaosWorker'],
      tags: [],
      limit: 3,
      leaseMs: 60_000,
      now: Date.now(),
    });
    assert.is(claimed.length, 3);
    await backend.finish(claimed.map((job) => succeeded(job)));
    const [a, b, c] = claimed.map((job) => (job.task_data as { n: number }).n);
    const queued = [0, 1, 2, 3, 4].filter((n) => ![a, b, c].includes(n));
    // a ran twice (in two processes), b once, c never ran yet is completed; one queued job ran
    // but its outcome was not saved: it is still stuck, not lost.
    writeFileSync(path.join(dir, 'runs-1.txt'), `${a}\n${b}\n`);
    writeFileSync(path.join(dir, 'runs-2.txt'), `${a}\n${queued[0]}\n`);

    assert.equal(await tally(app, 5, dir), { enqueued: 5, completed: 3, runs: 4, duplicates: 1, lost: 1, stuck: 2 });

    await backend.cancel('ChaosWorker');
    const after = await tally(app, 5, dir);
    assert.is(after.stuck, 0);
    assert.is(after.lost, 3, 'the cancelled jobs will never run: lost');
  } finally {
    await app.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
