// GET /_metrics of an app run by `loco start --server-and-worker`, scraped while it drains a queue
// on each durable store: the counters of what this process ran add up to the jobs run, the gauges
// read the store, and the token guards it.
import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Queue } from '../../runtime/src/internals.js';
import { copyFixtureApp } from '../cli/helpers.js';
import { openStore, testStoreConfig } from '../queue/helpers.js';
import { postgresStore, redisStore, sqliteStore, type TestStore } from '../stores.js';
import { startApp } from './app-server.js';

const TOKEN = 'metrics-test-token-0123456789';
const SUCCEED = 40;
const FAIL = 20;
/**
 * How long each attempt takes: 80 attempts, 4 at once, make a drain of 2 s, which the first
 * scrapes (after the app printed that it listens) catch part-way even on a loaded machine.
 */
const RUN_MS = 100;

/** The value of one sample (`name{labels}`), 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

function metricsSuite(store: TestStore) {
  const test = suite(`/_metrics on ${store.kind}`);

  test('scraped during a drain: started = completed + retried + failed = the attempts run; gauges from the store', async () => {
    const root = copyFixtureApp('ops-app');
    const uri = store.fresh();
    const backend = await openStore(testStoreConfig({ kind: store.kind, uri }));
    const app = await (async () => {
      // Enqueued before the worker starts, so the whole drain is this process's.
      const queue = new Queue('BackgroundQueue', backend);
      await queue.enqueueByName(
        'SlowWorker',
        Array.from({ length: SUCCEED }, () => ({ ms: RUN_MS })),
        { maxAttempts: 2 },
      );
      await queue.enqueueByName(
        'SlowWorker',
        Array.from({ length: FAIL }, () => ({ ms: RUN_MS, fail: true })),
        {
          maxAttempts: 2,
        },
      );
      return startApp(root, { LOCO_TEST_QUEUE_KIND: store.kind, LOCO_TEST_QUEUE_URI: uri, LOCO_ADMIN_TOKEN: TOKEN });
    })();
    try {
      const url = `${app.url}/_metrics`;
      const anonymous = await fetch(url);
      assert.is(anonymous.status, 401);
      assert.not.match(await anonymous.text(), 'loco_jobs');
      const scrape = async () => {
        const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
        assert.is(response.status, 200);
        assert.match(response.headers.get('content-type') ?? '', 'text/plain');
        return response.text();
      };
      const attempts = SUCCEED + 2 * FAIL;
      const startedSeen: number[] = [];
      let text = '';
      const end = Date.now() + 60_000;
      while (Date.now() < end) {
        text = await scrape();
        const started = sample(text, 'loco_jobs_started_total{name="SlowWorker"}');
        startedSeen.push(started);
        const ended = ['completed', 'failed', 'retried']
          .map((what) => sample(text, `loco_jobs_${what}_total{name="SlowWorker"}`))
          .reduce((a, b) => a + b, 0);
        assert.ok(ended <= started, `ended ${ended} <= started ${started}`);
        // The counters move as attempts end; the store has them once their outcomes are written.
        const stored =
          sample(text, 'loco_jobs{status="completed",name="SlowWorker"}') +
          sample(text, 'loco_jobs{status="failed",name="SlowWorker"}');
        if (started === attempts && ended === attempts && stored === SUCCEED + FAIL) break;
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      assert.ok(
        startedSeen.some((n) => n > 0 && n < attempts),
        `a scrape during the drain saw it part-way: ${startedSeen.join(', ')}`,
      );
      assert.is(sample(text, 'loco_jobs_started_total{name="SlowWorker"}'), attempts);
      assert.is(sample(text, 'loco_jobs_completed_total{name="SlowWorker"}'), SUCCEED);
      assert.is(sample(text, 'loco_jobs_retried_total{name="SlowWorker"}'), FAIL);
      assert.is(sample(text, 'loco_jobs_failed_total{name="SlowWorker"}'), FAIL);
      const runs = ['completed', 'retried', 'failed']
        .map((outcome) => sample(text, `loco_job_run_seconds_count{name="SlowWorker",outcome="${outcome}"}`))
        .reduce((a, b) => a + b, 0);
      assert.is(runs, attempts, 'one run time per attempt');
      assert.ok(
        sample(text, 'loco_job_run_seconds_sum{name="SlowWorker",outcome="completed"}') >=
          SUCCEED * (RUN_MS / 1000) * 0.9,
      );
      assert.is(sample(text, 'loco_job_queue_wait_seconds_count{name="SlowWorker"}'), SUCCEED + FAIL, 'first attempts');
      assert.is(sample(text, 'loco_jobs{status="failed",name="SlowWorker"}'), FAIL);
      assert.is(sample(text, 'loco_jobs{status="queued",name="SlowWorker"}'), 0);
      assert.match(text, 'loco_jobs{status="processing",name="SlowWorker"} 0', 'every status of a name is present');
      assert.is(sample(text, 'loco_claim_errors_total'), 0);
      assert.not.match(text, /[0-9A-HJKMNP-TV-Z]{26}/, 'no job ids in labels');
    } finally {
      await app.stop();
      await backend.close();
      await store.drop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  return test;
}

for (const store of [sqliteStore('metrics'), postgresStore('metrics'), redisStore('metrics')])
  metricsSuite(store).run();
