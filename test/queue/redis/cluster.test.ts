// The Redis queue on a Redis Cluster of three masters that this file starts on free ports of
// 127.0.0.1 (and stops, by PID, when the tests end or fail): the backend contract and the
// multi-process drain, every key of a queue in one hash slot (so no script meets CROSSSLOT), and
// dangerously_flush finding a queue's keys on whichever master holds them. Each test gets a key
// prefix of its own.
import { Cluster } from 'ioredis';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { QueueBackend } from '../../../runtime/src/internals.js';
import { deleteQueueKeys } from '../../../runtime/src/queue/redis/keys.js';
import { redisClusterStore } from '../../stores.js';
import { backendUnderTest, runContract } from '../contract.js';
import { completedOutcome, failedOutcome, newJob, openStore, testStoreConfig } from '../helpers.js';
import { runMultiProcess } from '../multi-process.js';
import { startLocalCluster } from './local-cluster.js';

const cluster = await startLocalCluster(3);
const backend = backendUnderTest(redisClusterStore('cluster', cluster.uri, cluster.nodes));
runContract(backend);
runMultiProcess(backend);

const test = suite('redis cluster: key slots');
let admin: Cluster;
let serial = 0;
const prefixes: string[] = [];
const opened: QueueBackend[] = [];

async function open(prefix: string, flush = false): Promise<QueueBackend> {
  const store = await openStore(testStoreConfig({ kind: 'Redis', uri: cluster.uri(prefix), dangerously_flush: flush }));
  opened.push(store);
  return store;
}

/** A queue with jobs in every state, a unique key, a pause, a rate window and a scheduler tick. */
async function populate(prefix: string): Promise<void> {
  const store = await open(prefix);
  await store.enqueue([
    newJob('EchoWorker', { key: 'k1' }),
    newJob('EchoWorker', { tags: ['email'], queue: 'mailers', priority: 3 }),
    newJob('OtherWorker', { run_at: Date.now() + 60_000 }),
    newJob('DoneWorker'),
    newJob('BrokenWorker'),
  ]);
  const claimed = await store.claim({
    names: ['DoneWorker', 'BrokenWorker', 'EchoWorker'],
    tags: [],
    limit: 10,
    leaseMs: 60_000,
    now: Date.now() + 1,
    limits: { EchoWorker: { concurrency: 2, rate: { max: 10, perMs: 1000 } } },
  });
  const byName = (name: string) => claimed.find((row) => row.name === name)!;
  await store.finish([completedOutcome(byName('DoneWorker')), failedOutcome(byName('BrokenWorker'), 'Error: no')]);
  await store.pause({ kind: 'worker', name: 'OtherWorker' });
  assert.ok(await store.claimTick('nightly', Date.now() + 60_000, 60_000));
}

/** Where each key of the prefix is: master address -> its keys. */
async function keysByMaster(prefix: string): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const node of admin.nodes('master')) {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, page] = await node.scan(cursor, 'MATCH', `*${prefix}[}:]*`, 'COUNT', 1000);
      keys.push(...page);
      cursor = next;
    } while (cursor !== '0');
    if (keys.length > 0) found.set(`${node.options.host}:${node.options.port}`, keys.sort());
  }
  return found;
}

/** A new prefix whose slot is served by the master at `address`. */
async function prefixOn(address: string): Promise<string> {
  for (;;) {
    const prefix = `loco-slots-${process.pid}-${++serial}`;
    const slot = (await admin.call('CLUSTER', 'KEYSLOT', `{${prefix}}:x`)) as number;
    if (admin.slots[slot]?.[0] === address) {
      prefixes.push(prefix);
      return prefix;
    }
  }
}

test.before(async () => {
  const [host, port] = cluster.nodes[0].split(':');
  admin = new Cluster([{ host, port: Number(port) }]);
  await admin.ping();
});
test.after(async () => {
  await admin.quit();
});
test.after.each(async () => {
  for (const store of opened.splice(0)) await store.close();
  for (const prefix of prefixes.splice(0)) await deleteQueueKeys(admin, prefix);
});

test('every key of a queue lies in one slot, on one master', async () => {
  const prefix = await prefixOn(cluster.nodes[1]);
  await populate(prefix);
  const where = await keysByMaster(prefix);
  assert.equal([...where.keys()], [cluster.nodes[1]], 'one master holds them all');
  const keys = where.get(cluster.nodes[1])!;
  for (const kind of ['job:', 'lane:', 'lanes', 'leases', 'names', 'keys:', 'status:', 'paused', 'running', 'tick:']) {
    assert.ok(
      keys.some((key) => key.startsWith(`{${prefix}}:${kind}`)),
      `a ${kind} key was written (${keys.join(' ')})`,
    );
  }
  const slots = new Set<number>();
  for (const key of keys) slots.add((await admin.call('CLUSTER', 'KEYSLOT', key)) as number);
  assert.is(slots.size, 1, 'all in one slot');
});

test("dangerously_flush finds a queue's keys on whichever master holds them, and deletes nothing else", async () => {
  const queues = await Promise.all(cluster.nodes.map((address) => prefixOn(address)));
  for (const prefix of queues) await populate(prefix);
  const outside = `{${queues[0]}x}:keep`;
  await admin.set(outside, 'keep');
  try {
    for (const [n, prefix] of queues.entries()) {
      const flushed = await open(prefix, true);
      assert.equal([...(await keysByMaster(prefix)).values()].flat(), [`{${prefix}}:layout`], `${prefix} flushed`);
      assert.equal(await flushed.list({}), []);
      for (const other of queues.slice(n + 1)) {
        assert.ok((await keysByMaster(other)).size === 1, `${other} untouched`);
      }
    }
    assert.is(await admin.get(outside), 'keep');
  } finally {
    await admin.del(outside);
  }
});

test.run();
