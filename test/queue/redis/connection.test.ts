// Redis backend and its connections: the blocking wake-up of idle workers, connections killed in
// the middle of a drain, and a server that is down or mute at boot. Needs Redis on
// 127.0.0.1:6379 (or LOCO_TEST_REDIS_URI); every test works under a key prefix of its own.
import net from 'node:net';
import { Redis } from 'ioredis';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundWorker, type QueueBackend, QueueConnectionError } from '../../../runtime/src/internals.js';
import { deleteQueueKeys, RedisKeys } from '../../../runtime/src/queue/redis/keys.js';
import {
  openStore,
  recordingLogger,
  sleep,
  startLoop,
  testContext,
  testStoreConfig,
  WOKEN_WITHIN_MS,
} from '../helpers.js';

const BASE_URI = process.env.LOCO_TEST_REDIS_URI ?? 'redis://127.0.0.1:6379/0';
let serial = 0;
let prefix = '';
let admin: Redis;
const opened: QueueBackend[] = [];
const logged: string[] = [];
const logger = recordingLogger(logged);

async function open(uri = `${BASE_URI}?prefix=${prefix}`, extra: Record<string, unknown> = {}): Promise<QueueBackend> {
  const backend = await openStore(testStoreConfig({ kind: 'Redis', uri, ...extra }));
  opened.push(backend);
  return backend;
}

/** Jobs that record when they start and how often each ran. */
const runs = new Map<number, number>();
let started: (n: number) => void = () => undefined;
class TallyWorker extends BackgroundWorker<{ n: number }> {
  async perform(args: { n: number }): Promise<void> {
    started(args.n);
    runs.set(args.n, (runs.get(args.n) ?? 0) + 1);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

type EnqueueArgs = Parameters<typeof TallyWorker.performLater>;

/** Enqueues TallyWorker job n; resolves with the time it started, or Infinity after 5 s. */
async function startedAt(from: EnqueueArgs[0], n: number, options?: EnqueueArgs[2]): Promise<number> {
  const arrived = new Promise<number>((resolve) => (started = (ran) => ran === n && resolve(Date.now())));
  await TallyWorker.performLater(from, { n }, options);
  return Promise.race([arrived, sleep(5000).then(() => Infinity)]);
}

/** A worker loop for TallyWorker on `backend`, with the context it enqueues through. */
function loop(backend: QueueBackend, options: { pollIntervalMs: number; concurrency?: number }) {
  const ctx = testContext(backend);
  ctx.queue.register(TallyWorker.build(ctx));
  const { stop } = startLoop(ctx, { concurrency: 4, leaseMs: 30_000, ...options, logger });
  return { ctx, stop };
}

/** Kills this test's queue connections (main and blocking) with CLIENT KILL ID; returns how many. */
async function killQueueConnections(): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  const ids = list
    .split('\n')
    .filter((line) => line.includes(` name=loco:${prefix} `) || line.includes(` name=loco:${prefix}:wait `))
    .map((line) => /\bid=(\d+)/.exec(line)![1]);
  for (const id of ids) await admin.client('KILL', 'ID', id);
  return ids.length;
}

const test = suite('redis connections');

test.before(async () => {
  admin = new Redis(BASE_URI);
});
test.after(async () => {
  await admin.quit();
});
test.before.each(() => {
  prefix = `loco-test-${process.pid}-${++serial}`;
  runs.clear();
  started = () => undefined;
  logged.length = 0;
});
test.after.each(async () => {
  for (const backend of opened.splice(0)) await backend.close();
  await deleteQueueKeys(admin, prefix);
});

test('an idle worker blocks on the wake list and starts a new job at once, without polling', async () => {
  const backend = await open();
  const claims: number[] = [];
  const claim = backend.claim.bind(backend);
  backend.claim = (request) => {
    claims.push(Date.now());
    return claim(request);
  };
  const worker = loop(backend, { pollIntervalMs: 10_000 });
  const producer = await open();
  const producerCtx = testContext(producer);
  try {
    await sleep(300);
    assert.ok(claims.length <= 2, `an idle worker does not poll (${claims.length} claims in 300 ms)`);
    for (const [n, from] of [
      [1, worker.ctx],
      [2, producerCtx],
    ] as const) {
      const begin = Date.now();
      const latency = (await startedAt(from, n)) - begin;
      assert.ok(latency < WOKEN_WITHIN_MS, `job ${n} started ${latency} ms after the enqueue`);
      await sleep(100);
    }
  } finally {
    await worker.stop();
  }
  assert.equal(logged, []);
});

test('a job enqueued in the process of a waiting worker starts without the wake list', async () => {
  // Another connection blocks on the wake list first, so the token of the enqueue goes to it.
  const thief = new Redis(BASE_URI);
  const stolen = thief.blpop(new RedisKeys(prefix).wake, 10);
  await sleep(100);
  const worker = loop(await open(), { pollIntervalMs: 10_000 });
  try {
    await sleep(300);
    const begin = Date.now();
    const latency = (await startedAt(worker.ctx, 1)) - begin;
    assert.ok(latency < WOKEN_WITHIN_MS, `the job started ${latency} ms after the enqueue`);
    assert.ok((await stolen) !== null, 'the wake token went to the other connection');
  } finally {
    await worker.stop();
    thief.disconnect();
  }
  assert.equal(logged, []);
});

test('a wake-up sent while nobody waits is kept for the next wait', async () => {
  const backend = await open();
  const never = new AbortController().signal;
  const ctx = testContext(backend);
  await TallyWorker.performLater(ctx, { n: 1 });
  const begin = Date.now();
  await backend.waitForWork(5000, never);
  assert.ok(Date.now() - begin < WOKEN_WITHIN_MS, 'the wait returned at once, not after its 5 s');
  const idle = Date.now();
  await backend.waitForWork(150, never);
  assert.ok(Date.now() - idle >= 140, 'with the token used, the next wait runs to its timeout');
});

test('a long wait that follows a short one still wakes up when a job comes', async () => {
  const backend = await open();
  const producer = await open();
  const never = new AbortController().signal;
  // The short wait leaves its blocking call behind; it times out during the long wait.
  await backend.waitForWork(20, never);
  const begin = Date.now();
  const enqueued = sleep(400).then(() => TallyWorker.performLater(testContext(producer), { n: 1 }));
  await backend.waitForWork(5000, never);
  const waited = Date.now() - begin;
  await enqueued;
  assert.ok(
    waited >= 390 && waited < 400 + WOKEN_WITHIN_MS,
    `woke up ${waited} ms into the 5 s wait (the job came at 400 ms)`,
  );
});

test('the next delayed job shortens the wait: it starts on time with a long poll interval', async () => {
  const backend = await open();
  const worker = loop(backend, { pollIntervalMs: 10_000 });
  try {
    await sleep(50);
    const due = Date.now() + 300;
    const at = await startedAt(worker.ctx, 1, { runAt: due });
    assert.ok(at >= due && at - due < WOKEN_WITHIN_MS, `started ${at - due} ms after its run_at`);
  } finally {
    await worker.stop();
  }
});

test('connections killed twice in the middle of a drain: every job completes exactly once, none stuck', async () => {
  const backend = await open();
  const jobs = 2000;
  const worker = loop(backend, { pollIntervalMs: 50, concurrency: 10 });
  await TallyWorker.performLaterMany(
    worker.ctx,
    Array.from({ length: jobs }, (_, n) => ({ n })),
  );
  let kills = 0;
  try {
    for (const at of [jobs / 4, jobs / 2]) {
      while (runs.size < at) await sleep(1);
      kills += await killQueueConnections();
    }
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const stats = await backend.stats();
      if (stats.length === 1 && stats[0].status === 'completed' && stats[0].count === jobs) break;
      await sleep(50);
    }
  } finally {
    await worker.stop();
  }
  assert.ok(kills >= 2, `connections were killed (${kills})`);
  assert.equal(await backend.stats(), [{ name: 'TallyWorker', status: 'completed', count: jobs }]);
  assert.is(runs.size, jobs, 'every job ran');
  assert.equal(
    [...runs.values()].filter((count) => count !== 1),
    [],
    'none ran twice',
  );
});

test('a server that is down at boot gives one QueueConnectionError naming the URI, at once and quietly', async () => {
  const printed: unknown[][] = [];
  const original = { error: console.error, warn: console.warn, log: console.log };
  console.error = console.warn = console.log = (...args: unknown[]) => void printed.push(args);
  const begin = Date.now();
  try {
    await open('redis://:hunter2@127.0.0.1:6999/0?prefix=down');
    assert.unreachable('init should fail');
  } catch (err) {
    assert.instance(err, QueueConnectionError);
    assert.is(
      (err as Error).message,
      'Cannot connect to the Redis queue at redis://127.0.0.1:6999/0?prefix=down: connect ECONNREFUSED 127.0.0.1:6999. ' +
        'Check that the server is running and queue.uri is right.',
    );
    assert.ok(Date.now() - begin < 3000, `failed after ${Date.now() - begin} ms`);
    await sleep(300);
  } finally {
    Object.assign(console, original);
  }
  assert.equal(printed, [], 'nothing printed, no reconnect attempts logged');
});

test('a redis+cluster:// URI naming a server that is not a cluster fails at init with what the server said', async () => {
  const printed: unknown[][] = [];
  const original = { error: console.error, warn: console.warn, log: console.log };
  console.error = console.warn = console.log = (...args: unknown[]) => void printed.push(args);
  const single = new URL(BASE_URI);
  try {
    await open(`redis+cluster://${single.host}?prefix=${prefix}`);
    assert.unreachable('init should fail');
  } catch (err) {
    assert.instance(err, QueueConnectionError);
    assert.match(
      (err as Error).message,
      `Cannot connect to the Redis queue at redis+cluster://${single.host}?prefix=${prefix}: Failed to refresh slots ` +
        'cache: ERR This instance has cluster support disabled. Check that the nodes are running, are part of a ' +
        'Redis Cluster (cluster-enabled yes; for a single server write redis://)',
    );
    await sleep(300);
  } finally {
    Object.assign(console, original);
  }
  assert.equal(printed, [], 'nothing printed, no reconnect attempts logged');
});

test('a server that accepts but never answers fails init within connect_timeout', async () => {
  const sockets: net.Socket[] = [];
  const mute = net.createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
  const { port } = mute.address() as net.AddressInfo;
  const begin = Date.now();
  try {
    await open(`redis://127.0.0.1:${port}`, { connect_timeout: 300 });
    assert.unreachable('init should fail');
  } catch (err) {
    assert.instance(err, QueueConnectionError);
    assert.match((err as Error).message, `Cannot connect to the Redis queue at redis://127.0.0.1:${port}: `);
    const took = Date.now() - begin;
    assert.ok(took >= 290 && took < 3000, `failed after ${took} ms`);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => mute.close(resolve));
  }
});

test.run();
