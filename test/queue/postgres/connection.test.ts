// Postgres backend and its connections: a server that is down at boot, LISTEN/NOTIFY wake-ups
// and their reconnection, and connections killed in the middle of a drain. Needs PostgreSQL on
// 127.0.0.1:5432 (or LOCO_TEST_POSTGRES_URI); every test works in a schema of its own.
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BackgroundWorker,
  createBackend,
  type NewJob,
  QueueConnectionError,
  type StoreConfig,
  silentLogger,
} from '../../../runtime/src/internals.js';
import { PostgresBackend } from '../../../runtime/src/queue/postgres/backend.js';
import { POSTGRES_URI, postgresAdmin } from '../../stores.js';
import {
  newJob,
  ROOT,
  recordingLogger,
  sleep,
  startLoop,
  testContext,
  testStoreConfig,
  WOKEN_WITHIN_MS,
} from '../helpers.js';

const BASE_URI = POSTGRES_URI;
let serial = 0;
let schema = '';
const backends: PostgresBackend[] = [];
const logged: string[] = [];
const quiet = recordingLogger(logged);

function config(uri = `${BASE_URI}?schema=${schema}`, extra: Record<string, unknown> = {}): StoreConfig {
  return testStoreConfig({ kind: 'Postgres', uri, ...extra });
}

async function open(): Promise<PostgresBackend> {
  const backend = new PostgresBackend(config(), { root: ROOT, logger: quiet });
  backends.push(backend);
  await backend.init({ flush: false });
  return backend;
}

/** Ends every server connection the queue of this test holds (pool and LISTEN); returns how many. */
function terminateQueueConnections(): Promise<number> {
  return postgresAdmin(async (client) => {
    const { rowCount } = await client.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
      [`loco-ts:${schema}`],
    );
    return rowCount ?? 0;
  });
}

/**
 * A backend as another process would have it: its URI differs (application_name), so it shares
 * no in-memory wake-up with the workers here and can reach them only through NOTIFY.
 */
async function openProducer(): Promise<PostgresBackend> {
  const backend = new PostgresBackend(config(`${BASE_URI}?schema=${schema}&application_name=loco_test_producer`), {
    root: ROOT,
    logger: quiet,
  });
  backends.push(backend);
  await backend.init({ flush: false });
  return backend;
}

function stampJob(id: string): NewJob {
  return newJob('StampWorker', { id, task_data: {} });
}

/** When the last StampWorker job started. */
let stamped: number | undefined;

/** Notes when it started. */
class StampWorker extends BackgroundWorker<Record<string, never>> {
  async perform(): Promise<void> {
    stamped = Date.now();
  }
}

const runs: number[] = [];

/** Records its `n` each time it runs. */
class TallyWorker extends BackgroundWorker<{ n: number }> {
  async perform(args: { n: number }): Promise<void> {
    runs.push(args.n);
    await sleep(args.n % 7);
  }
}

const test = suite('postgres: connections, wake-ups and dropped connections');

/**
 * A worker loop on `backend` for `worker`. A poll interval of 10 s (the default here) means a job
 * that starts sooner was found through a wake-up.
 */
function startWorker(
  backend: PostgresBackend,
  worker: typeof StampWorker | typeof TallyWorker,
  settings: { concurrency: number; pollIntervalMs?: number; leaseMs?: number },
): { stop: () => Promise<void> } {
  const ctx = testContext(backend);
  ctx.queue.register(worker.build(ctx));
  return startLoop(ctx, { pollIntervalMs: 10_000, ...settings, logger: quiet });
}

test.before.each(() => {
  schema = `loco_test_${process.pid}_c${++serial}`;
  logged.length = 0;
  runs.length = 0;
  stamped = undefined;
});

test.after.each(async () => {
  for (const backend of backends.splice(0)) await backend.close();
  await postgresAdmin((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
});

test('a server that is down at boot gives one QueueConnectionError naming the URI without its password', async () => {
  const uri = 'postgres://postgres:hunter2@127.0.0.1:5999/test?schema=loco_down';
  const backend = await createBackend(config(uri, { connect_timeout: 2000 }), { root: ROOT, logger: silentLogger });
  try {
    await backend.init({ flush: false });
    assert.unreachable('init should fail');
  } catch (err) {
    assert.instance(err, QueueConnectionError);
    const message = (err as Error).message;
    assert.match(
      message,
      'Cannot connect to the Postgres queue at postgres://postgres@127.0.0.1:5999/test?schema=loco_down: ',
    );
    assert.match(message, 'ECONNREFUSED');
    assert.match(message, 'Check that the server is running and queue.uri is right.');
    assert.not.match(message, 'hunter2');
    assert.not.match(message, '\n    at ', 'no stack trace in the message');
  } finally {
    await backend.close();
  }
});

test('a server that never answers gives up after connect_timeout and says so', async () => {
  const silent = net.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as net.AddressInfo;
  const backend = new PostgresBackend(config(`postgres://postgres@127.0.0.1:${port}/test`, { connect_timeout: 300 }), {
    root: ROOT,
    logger: quiet,
  });
  const started = Date.now();
  try {
    await backend.init({ flush: false });
    assert.unreachable('init should fail');
  } catch (err) {
    assert.instance(err, QueueConnectionError);
    assert.match((err as Error).message, 'no answer within 300 ms (queue.connect_timeout)');
    assert.ok(Date.now() - started < 3000, 'it did not wait longer');
  } finally {
    await backend.close();
    silent.close();
  }
});

test('an idle worker (poll interval 10 s) is woken by NOTIFY when another process enqueues a job', async () => {
  const backend = await open();
  const producer = await openProducer();
  const loop = startWorker(backend, StampWorker, { concurrency: 2 });
  try {
    await sleep(300); // the loop has found nothing and sleeps on LISTEN
    for (const round of [1, 2, 3]) {
      stamped = undefined;
      const enqueuedAt = Date.now();
      await producer.enqueue([stampJob(`wake-${round}`)]);
      while (stamped === undefined && Date.now() - enqueuedAt < 5000) await sleep(2);
      assert.ok(stamped !== undefined, `round ${round}: the job ran`);
      assert.ok(
        stamped - enqueuedAt < WOKEN_WITHIN_MS,
        `round ${round}: started ${stamped - enqueuedAt} ms after the insert`,
      );
      await sleep(50);
    }
  } finally {
    await loop.stop();
  }
});

test('a process that enqueues and closes at once (loco jobs enqueue) still wakes idle workers elsewhere', async () => {
  const backend = await open();
  const loop = startWorker(backend, StampWorker, { concurrency: 1 });
  try {
    await sleep(300);
    const producer = await openProducer();
    const enqueuedAt = Date.now();
    await producer.enqueue([stampJob('then-exit')]);
    await producer.close();
    while (stamped === undefined && Date.now() - enqueuedAt < 5000) await sleep(2);
    assert.ok(stamped !== undefined && stamped - enqueuedAt < WOKEN_WITHIN_MS, 'woken by the NOTIFY sent on close');
  } finally {
    await loop.stop();
  }
});

test('the LISTEN connection reconnects after the server drops it, and wake-ups work again', async () => {
  const backend = await open();
  const producer = await openProducer();
  const loop = startWorker(backend, StampWorker, { concurrency: 1 });
  try {
    await sleep(300);
    assert.ok((await terminateQueueConnections()) >= 1);
    await sleep(500); // reconnects after 100 ms
    const enqueuedAt = Date.now();
    await producer.enqueue([stampJob('after-drop')]);
    while (stamped === undefined && Date.now() - enqueuedAt < 5000) await sleep(2);
    assert.ok(
      stamped !== undefined && stamped - enqueuedAt < WOKEN_WITHIN_MS,
      'woken through the new LISTEN connection',
    );
    assert.ok(
      logged.some((line) => line.includes('the LISTEN connection closed')),
      'the drop was reported',
    );
    assert.ok(
      logged.some((line) => line.includes('listening for new jobs again')),
      'and the return',
    );
  } finally {
    await loop.stop();
  }
});

test('every connection killed three times during a drain of 2000 jobs: all complete, none lost or stuck', async () => {
  const backend = await open();
  const total = 2000;
  await testContext(backend).queue.enqueueByName(
    'TallyWorker',
    Array.from({ length: total }, (_, n) => ({ n })),
    { maxAttempts: 10 },
  );
  const loop = startWorker(backend, TallyWorker, { concurrency: 10, pollIntervalMs: 50, leaseMs: 1000 });
  const completed = async () => (await backend.stats()).find((row) => row.status === 'completed')?.count ?? 0;
  let kills = 0;
  try {
    const deadline = Date.now() + 30_000;
    for (const share of [0.15, 0.4, 0.65]) {
      while (runs.length < total * share && Date.now() < deadline) await sleep(2);
      const killed = await terminateQueueConnections();
      assert.ok(killed >= 1, 'there were connections to kill');
      kills += 1;
    }
    let done = await completed().catch(() => 0);
    while (done < total && Date.now() < deadline) {
      await sleep(50);
      done = await completed().catch(() => 0);
    }
    assert.is(done, total, `completed ${done} of ${total}`);
  } finally {
    await loop.stop();
  }
  assert.is(kills, 3);
  assert.equal(
    await backend.stats(),
    [{ name: 'TallyWorker', status: 'completed', count: total }],
    'none left queued or processing',
  );
  assert.is(new Set(runs).size, total, 'every job ran');
  assert.ok(runs.length < total * 1.2, `few ran twice (${runs.length - total})`);
});

test('enable_logging logs each SQL statement with its values; off by default', async () => {
  const silent = await open();
  await silent.enqueue([stampJob('unlogged')]);
  assert.not.ok(logged.some((line) => line.includes('INSERT INTO')));
  const verbose = new PostgresBackend(config(undefined, { enable_logging: true }), { root: ROOT, logger: quiet });
  backends.push(verbose);
  await verbose.init({ flush: false });
  await verbose.enqueue([stampJob('logged')]);
  const line = logged.find((entry) => entry.includes('loco_enqueue_job'));
  assert.ok(line, 'the enqueue was logged');
  assert.match(line!, `INSERT INTO "${schema}".loco_jobs`);
  assert.match(line!, '"logged"');
});

test('close() ends the pool and the LISTEN connection', async () => {
  const backend = await open();
  const waiting = backend.waitForWork(200, new AbortController().signal);
  await sleep(100);
  const count = () =>
    postgresAdmin(async (client) => {
      const { rows } = await client.query(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
        [`loco-ts:${schema}`],
      );
      return rows[0].n as number;
    });
  assert.ok((await count()) >= 2, 'pool and LISTEN connections are open');
  await waiting;
  await backend.close();
  await sleep(50);
  assert.is(await count(), 0);
});

test.run();
