// A store made by the version before hash tags (keys `<prefix>:...`) opened by this one: its keys
// are moved to `{<prefix>}:...` on open and every job, unique key and pause reads as before;
// keys such a version writes after the upgrade are merged in on the next open. Needs Redis on
// 127.0.0.1:6379 (or LOCO_TEST_REDIS_URI); every test works under key prefixes of its own.
//
// The previous version's scripts are this version's with `<prefix>` where `{<prefix>}` is now
// (the scripts build every key from ARGV[1], which was the bare prefix), so its store is made
// here by writing with this version and renaming each key `{<prefix>}:x` to `<prefix>:x`.
import { Redis } from 'ioredis';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createBackend,
  type JobRecord,
  type NewJob,
  type QueueBackend,
  silentLogger,
} from '../../../runtime/src/internals.js';
import { deleteQueueKeys } from '../../../runtime/src/queue/redis/keys.js';
import { LAYOUT_VERSION } from '../../../runtime/src/queue/redis/layout.js';
import { completedOutcome, failedOutcome, newJob, openStore, ROOT, testStoreConfig } from '../helpers.js';

const BASE_URI = process.env.LOCO_TEST_REDIS_URI ?? 'redis://127.0.0.1:6379/0';
let serial = 0;
let admin: Redis;
const prefixes: string[] = [];
const opened: QueueBackend[] = [];

function newPrefix(): string {
  const prefix = `loco-layout-${process.pid}-${++serial}`;
  prefixes.push(prefix);
  return prefix;
}

async function open(prefix: string, options: { create?: boolean } = {}): Promise<QueueBackend> {
  const config = testStoreConfig({ kind: 'Redis', uri: `${BASE_URI}?prefix=${prefix}` });
  const backend = options.create === false ? await openReading(config) : await openStore(config);
  opened.push(backend);
  return backend;
}

/** Opens as the commands that only read do (`create: false`). */
async function openReading(config: ReturnType<typeof testStoreConfig>): Promise<QueueBackend> {
  const backend = await createBackend(config, { root: ROOT, logger: silentLogger });
  await backend.init({ flush: false, create: false });
  return backend;
}

/** Every key of the queue `from` (this layout), renamed as the previous version would have written it under `to`. */
async function toPreviousLayout(from: string, to: string): Promise<string[]> {
  const keys = await admin.keys(`{${from}}:*`);
  const renamed: string[] = [];
  for (const key of keys) {
    if (key === `{${from}}:layout`) {
      await admin.del(key); // the previous version kept no layout version
      continue;
    }
    const old = `${to}${key.slice(`{${from}}`.length)}`;
    await admin.rename(key, old);
    renamed.push(old);
  }
  return renamed.sort();
}

/** A store with a job in each state, a unique key and a pause, written and closed; its records. */
async function populate(prefix: string): Promise<{ records: JobRecord[]; keyed: NewJob }> {
  const backend = await open(prefix);
  const keyed = newJob('EchoWorker', { key: 'report:1' });
  const later = newJob('EchoWorker', { run_at: Date.now() + 3_600_000, tags: ['email'], priority: 5 });
  const [running, done, broken] = [newJob('SlowWorker'), newJob('DoneWorker'), newJob('BrokenWorker')];
  await backend.enqueue([running, done, broken]);
  const claimed = await backend.claim({
    names: ['SlowWorker', 'DoneWorker', 'BrokenWorker'],
    tags: [],
    limit: 10,
    leaseMs: 60_000,
    now: Date.now() + 1,
  });
  assert.is(claimed.length, 3);
  const byName = (name: string) => claimed.find((row) => row.name === name)!;
  await backend.finish([
    completedOutcome(byName('DoneWorker')),
    failedOutcome(byName('BrokenWorker'), 'Error: it broke'),
  ]);
  await backend.enqueue([keyed, later]);
  await backend.pause({ kind: 'worker', name: 'GhostWorker' });
  const records = await backend.list({});
  assert.is(records.length, 5);
  return { records, keyed };
}

const test = suite('redis key layout upgrade');

test.before(async () => {
  admin = new Redis(BASE_URI);
});
test.after(async () => {
  await admin.quit();
});
test.after.each(async () => {
  for (const backend of opened.splice(0)) await backend.close();
  for (const prefix of prefixes.splice(0)) await deleteQueueKeys(admin, prefix);
});

test('a store of the previous layout is moved on open, by one of the processes opening it at once, and reads as before', async () => {
  const prefix = newPrefix();
  const { records, keyed } = await populate(prefix);
  for (const backend of opened.splice(0)) await backend.close();
  const old = await toPreviousLayout(prefix, prefix);
  assert.ok(old.includes(`${prefix}:names`) && old.some((key) => key.startsWith(`${prefix}:job:`)), 'old-layout keys');
  assert.equal(await admin.keys(`{${prefix}}:*`), [], 'nothing in the new layout yet');

  const [first, second] = await Promise.all([open(prefix), open(prefix)]);
  assert.equal(await admin.keys(`${prefix}:*`), [], 'no key of the previous layout is left');
  assert.is(await admin.get(`{${prefix}}:layout`), LAYOUT_VERSION);
  assert.is(await admin.exists(`{${prefix}}:upgrading`), 0, 'the hold is released');
  assert.equal(await first.list({}), records, 'every job reads as it did, lease included');
  assert.equal(await second.list({}), records);
  assert.equal(await first.paused(), [{ kind: 'worker', name: 'GhostWorker' }], 'the pause is kept');

  // The unique key still points at its queued job, and the queued job is claimed.
  const [again] = await first.enqueue([newJob('EchoWorker', { key: 'report:1' })]);
  assert.equal(again, { id: keyed.id, added: false });
  const claimed = await second.claim({
    names: ['EchoWorker'],
    tags: [],
    limit: 10,
    leaseMs: 1000,
    now: Date.now() + 1,
  });
  assert.equal(
    claimed.map((row) => row.id),
    [keyed.id],
  );
  await second.finish([completedOutcome(claimed[0])]);
  const stats = await first.stats();
  assert.ok(stats.some((row) => row.name === 'EchoWorker' && row.status === 'completed' && row.count === 1));
});

test('keys the previous version writes after the upgrade are merged in on the next open', async () => {
  const prefix = newPrefix();
  const { records } = await populate(prefix);
  for (const backend of opened.splice(0)) await backend.close();
  await toPreviousLayout(prefix, prefix);
  await (await open(prefix)).close();
  opened.pop();

  // A process of the previous version, still running, enqueues into its layout: same names and
  // lanes as the upgraded store holds, and a name it has not seen.
  const other = newPrefix();
  const backend = await open(other);
  const late = [newJob('EchoWorker', { key: 'report:2' }), newJob('NewWorker')];
  await backend.enqueue(late);
  await backend.close();
  opened.pop();
  await toPreviousLayout(other, prefix);

  const reopened = await open(prefix);
  assert.equal(await admin.keys(`${prefix}:*`), [], 'merged and removed');
  const ids = (await reopened.list({})).map((row) => row.id).sort();
  assert.equal(ids, [...records.map((row) => row.id), ...late.map((row) => row.id)].sort(), 'no job lost');
  const claimed = await reopened.claim({
    names: ['EchoWorker', 'NewWorker'],
    tags: [],
    limit: 10,
    leaseMs: 1000,
    now: Date.now() + 1,
  });
  assert.equal(
    claimed.map((row) => row.id).sort(),
    [records.find((row) => row.key === 'report:1')!.id, ...late.map((row) => row.id)].sort(),
    'both lanes merged',
  );
  assert.equal(await reopened.paused(), [{ kind: 'worker', name: 'GhostWorker' }]);
});

test('opening an unused prefix only to read writes nothing; opening it to work writes the layout version', async () => {
  const prefix = newPrefix();
  const reader = await open(prefix, { create: false });
  assert.equal(await reader.list({}), []);
  assert.equal(await admin.keys(`*${prefix}*`), [], 'nothing written');
  await open(prefix);
  assert.equal(await admin.keys(`*${prefix}*`), [`{${prefix}}:layout`]);
});

test.run();
