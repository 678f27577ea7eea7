// Redis backend behaviour beyond the contract: named-queue priority, jobs a worker cannot take
// keep their place, dangerously_flush stays inside the prefix, operator verbs answer as SQLite's
// do, and the Lua scripts document their KEYS and ARGV. Needs Redis on 127.0.0.1:6379 (or
// LOCO_TEST_REDIS_URI); every test works under a key prefix of its own.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { monotonicFactory } from 'ulid';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type ClaimRequest,
  type JobRecord,
  type NewJob,
  type QueueBackend,
  QueueConnectionError,
} from '../../../runtime/src/internals.js';
import { deleteQueueKeys, laneId } from '../../../runtime/src/queue/redis/keys.js';
import { LUA_SCRIPTS, SCRIPT_NAMES } from '../../../runtime/src/queue/redis/lua.generated.js';
import {
  completedOutcome,
  failedOutcome,
  newJob,
  openStore,
  ROOT,
  retryOutcome,
  sleep,
  testStoreConfig,
} from '../helpers.js';

const BASE_URI = process.env.LOCO_TEST_REDIS_URI ?? 'redis://127.0.0.1:6379/0';
const SCRIPTS_DIR = path.join(ROOT, 'runtime/src/queue/redis/lua');
const ulid = monotonicFactory();
let serial = 0;
let prefix = '';
let admin: Redis;
const opened: QueueBackend[] = [];

async function open(options: { queues?: string[]; flush?: boolean; prefix?: string } = {}): Promise<QueueBackend> {
  const uri = `${BASE_URI}?prefix=${encodeURIComponent(options.prefix ?? prefix)}`;
  const backend = await openStore(
    testStoreConfig({ kind: 'Redis', uri, queues: options.queues ?? [], dangerously_flush: options.flush ?? false }),
  );
  opened.push(backend);
  return backend;
}

function claimOf(names: string[], fields: Partial<ClaimRequest> = {}): ClaimRequest {
  return { names, tags: [], limit: 10, leaseMs: 30_000, now: Date.now() + 1, ...fields };
}

const test = suite('redis backend');

test.before(async () => {
  admin = new Redis(BASE_URI);
});
test.after(async () => {
  await admin.quit();
});
test.before.each(() => {
  prefix = `loco-test-${process.pid}-${++serial}`;
});
test.after.each(async () => {
  for (const backend of opened.splice(0)) await backend.close();
  await deleteQueueKeys(admin, prefix);
});

test('named queues are claimed in the order of queue.queues, then the default queue and unlisted ones by age', async () => {
  const backend = await open({ queues: ['critical', 'mailers'] });
  const low = newJob('EchoWorker', { queue: 'low' });
  const plain = newJob('EchoWorker');
  const mail = newJob('EchoWorker', { queue: 'mailers' });
  const critical = [newJob('EchoWorker', { queue: 'critical' }), newJob('EchoWorker', { queue: 'critical' })];
  for (const next of [low, plain, mail, ...critical]) await backend.enqueue([next]);

  const order: string[] = [];
  for (;;) {
    const [claimed] = await backend.claim(claimOf(['EchoWorker'], { limit: 1 }));
    if (!claimed) break;
    order.push(claimed.id);
  }
  assert.equal(order, [critical[0].id, critical[1].id, mail.id, low.id, plain.id]);

  // One batch crosses the priorities in the same order.
  for (const next of [low, plain, mail, ...critical]) await backend.enqueue([{ ...next, id: ulid() }]);
  const batch = await backend.claim(claimOf(['EchoWorker'], { limit: 4 }));
  assert.equal(
    batch.map((claimed) => claimed.queue),
    ['critical', 'critical', 'mailers', 'low'],
  );
});

test('a job a worker cannot take keeps its place, and a worker that can take it gets it first', async () => {
  const backend = await open();
  const email = newJob('EmailWorker', { tags: ['email'] });
  const ghost = newJob('GhostWorker');
  await backend.enqueue([email, ghost]);
  const laneOf = (queued: NewJob) =>
    `{${prefix}}:lane:${laneId(queued.queue, queued.name, queued.tags, queued.priority)}`;
  const place = async (queued: NewJob) => ({
    rank: await admin.zrank(laneOf(queued), queued.id),
    score: await admin.zscore(laneOf(queued), queued.id),
  });
  const before = { email: await place(email), ghost: await place(ghost) };
  const fresh: NewJob[] = [];
  for (let round = 0; round < 20; round++) {
    // An untagged process with EchoWorker and EmailWorker: it may not take tagged jobs nor GhostWorker's.
    const next = newJob('EchoWorker');
    fresh.push(next);
    await backend.enqueue([next, newJob('EmailWorker', { tags: ['email'] })]);
    const claimed = await backend.claim(claimOf(['EchoWorker', 'EmailWorker']));
    assert.equal(
      claimed.map((row) => row.id),
      [next.id],
    );
  }
  assert.equal(await place(email), before.email, 'the tagged job is where it was');
  assert.equal(await place(ghost), before.ghost, 'the job without a registered worker is where it was');
  const [first] = await backend.claim(claimOf(['EmailWorker'], { tags: ['email'], limit: 1 }));
  assert.is(first.id, email.id, 'the oldest email job goes first');
  const [ghostJob] = await backend.claim(claimOf(['GhostWorker'], { limit: 1 }));
  assert.is(ghostJob.id, ghost.id);
  assert.is(ghostJob.attempts, 1, 'never claimed before');
});

test('the running count holds only jobs claimed with a concurrency limit; a job claimed by the earlier version is taken back', async () => {
  const backend = await open();
  const running = `{${prefix}}:running`;
  const plain = newJob('EchoWorker');
  const limited = [
    newJob('MailWorker', { concurrency_key: 'acme' }),
    newJob('MailWorker', { concurrency_key: 'acme' }),
  ];
  await backend.enqueue([plain, ...limited]);
  const [echo] = await backend.claim(claimOf(['EchoWorker']));
  assert.equal(await admin.hgetall(running), {}, 'a name without a limit is not counted');
  assert.is(await admin.hget(`{${prefix}}:job:${plain.id}`, 'counted'), '0');
  const mail = await backend.claim(claimOf(['MailWorker'], { limits: { MailWorker: { concurrency: 5 } } }));
  assert.is(mail.length, 2);
  assert.equal(await admin.hgetall(running), { 'MailWorker\0acme': '2' });
  // The version before counted every job and left no mark: such a job, ended now, is taken back.
  await admin.hdel(`{${prefix}}:job:${mail[0].id}`, 'counted');
  await backend.finish([completedOutcome(echo), completedOutcome({ ...mail[0], name: 'MailWorker' })]);
  assert.equal(await admin.hgetall(running), { 'MailWorker\0acme': '1' }, 'the unmarked job took its count back');
  await backend.finish([completedOutcome({ ...mail[1], name: 'MailWorker' })]);
  assert.equal(await admin.hgetall(running), {}, 'a count that reaches 0 is deleted');
});

test('a claim carries the outcomes of the jobs before it: one script call records them, frees their slots and claims', async () => {
  const backend = await open();
  assert.ok(backend.capabilities.finishInClaim, 'the worker loop hands outcomes to claims');
  const limited = { MailWorker: { concurrency: 1 } };
  const [first, second] = [
    newJob('MailWorker', { concurrency_key: 'acme' }),
    newJob('MailWorker', { concurrency_key: 'acme' }),
  ];
  const retried = newJob('EchoWorker');
  await backend.enqueue([first, second, retried]);
  const [mail] = await backend.claim(claimOf(['MailWorker'], { limits: limited }));
  const [echo] = await backend.claim(claimOf(['EchoWorker']));
  assert.equal(await backend.claim(claimOf(['MailWorker'], { limits: limited })), [], 'the key is at its limit');
  // Count the calls the backend's own connection sends from here.
  const connection = (backend as unknown as { redis: Redis }).redis;
  const sent: string[] = [];
  const sendCommand = connection.sendCommand.bind(connection);
  connection.sendCommand = (command, stream) => {
    sent.push(command.name);
    return sendCommand(command, stream);
  };
  const claimed = await backend.claim(
    claimOf(['MailWorker', 'EchoWorker'], {
      limits: limited,
      finish: [completedOutcome({ ...mail, name: 'MailWorker' }), retryOutcome(echo, 'flaky', Date.now() - 1)],
    }),
  );
  assert.equal(sent, ['evalsha'], 'one call');
  assert.equal(
    claimed.map((job) => job.id).sort(),
    [second.id, retried.id].sort(),
    'the slot the outcome freed and the retry it queued were claimed by the same call',
  );
  assert.is((await backend.get(first.id))?.status, 'completed');
  assert.is(claimed.find((job) => job.id === retried.id)?.attempts, 2);
});

test('a claim merges lanes by run_at, and the same call sent again answers with the jobs it claimed, lane by lane', async () => {
  const backend = await open();
  const at = Date.now() - 1000;
  const jobs = [
    newJob('EchoWorker', { run_at: at, task_data: { n: 1 } }),
    newJob('MailWorker', { run_at: at + 1, task_data: { n: 2 }, interval: 60_000 }),
    newJob('EchoWorker', { run_at: at + 2, task_data: { n: 3 }, max_attempts: 3 }),
    newJob('MailWorker', {
      run_at: at + 3,
      task_data: { n: 4 },
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    }),
    newJob('EchoWorker', { run_at: at + 4, task_data: { n: 5 }, tags: ['other'] }),
  ];
  await backend.enqueue(jobs);
  const request = claimOf(['EchoWorker', 'MailWorker'], { limit: 4 });
  const claimed = await backend.claim(request);
  const seen = (job: (typeof claimed)[number]) => ({
    id: job.id,
    name: job.name,
    task_data: job.task_data,
    interval: job.interval,
    attempts: job.attempts,
    max_attempts: job.max_attempts,
    traceparent: job.traceparent,
  });
  const expected = jobs.slice(0, 4).map((job) => ({
    id: job.id,
    name: job.name,
    task_data: job.task_data,
    interval: job.interval,
    attempts: 1,
    max_attempts: job.max_attempts,
    traceparent: job.traceparent ?? null,
  }));
  assert.equal(claimed.map(seen), expected, 'oldest first across the two lanes, each job with its own fields');
  // The client sends the same call again (as ioredis does after a dropped connection): same token.
  (backend as unknown as { claimSeq: number }).claimSeq -= 1;
  const again = await backend.claim(request);
  assert.equal(
    again.map(seen).sort((a, b) => a.id.localeCompare(b.id)),
    expected,
    'the jobs of the first call, nothing claimed twice',
  );
  assert.equal(await backend.claim(claimOf(['EchoWorker', 'MailWorker'])), [], 'the tagged job is not ours');
});

test('a claim passes over the lanes of other names, and finds its own whatever characters its names hold', async () => {
  const backend = await open();
  const others = Array.from({ length: 30 }, (_, i) => newJob(`Other${i}Worker`, { tags: i % 2 ? ['t'] : [] }));
  // Names JSON writes with escapes, and one that another lane's queue and tags spell out.
  const quoted = newJob('Say"Hi"\\Worker');
  const accented = newJob('CaféWorker', { queue: 'EchoWorker' });
  const echo = newJob('EchoWorker', { queue: 'Other1Worker', tags: ['Other2Worker'] });
  await backend.enqueue([...others, quoted, accented, echo]);
  const take = async (names: string[], tags: string[] = []) =>
    (await backend.claim(claimOf(names, { tags }))).map((job) => job.id).sort();
  assert.equal(await take(['EchoWorker'], ['Other2Worker']), [echo.id]);
  assert.equal(await take(['Say"Hi"\\Worker', 'EchoWorker']), [quoted.id]);
  assert.equal(await take(['CaféWorker']), [accented.id]);
  assert.equal(await take(['Other1Worker'], ['t']), [others[1].id]);
  assert.equal(await take(['Other0Worker', 'Missing']), [others[0].id]);
});

test('dangerously_flush deletes the keys under the prefix and nothing else', async () => {
  prefix = `loco-test-${process.pid}-${++serial}-glob*?`;
  const first = await open();
  await first.enqueue([newJob('EchoWorker'), newJob('EmailWorker', { tags: ['email'] })]);
  await first.claim(claimOf(['EchoWorker']));
  const pattern = `{${prefix.replace(/[*?]/g, '\\$&')}}:*`;
  const before = await admin.keys(pattern);
  assert.ok(before.length >= 4, `the queue wrote keys under its prefix (${before.length})`);
  // A key of the layout before hash tags is the queue's too, and goes.
  await admin.set(`${prefix}:names`, 'old layout');
  const outside = [
    `${prefix}`,
    `{${prefix}}`,
    `${prefix}x:keep`,
    `{${prefix}}x:keep`,
    `{${prefix}x}:keep`,
    `other:${prefix}:keep`,
    `loco-test-${process.pid}-${serial}-globAB:keep`, // what the prefix's * and ? would match unescaped
  ];
  for (const key of outside) await admin.set(key, 'keep');
  try {
    const second = await open({ flush: true });
    assert.equal(await admin.keys(pattern), [`{${prefix}}:layout`], 'only the layout version, written on open');
    assert.is(await admin.exists(`${prefix}:names`), 0, 'the old-layout key is gone');
    for (const key of outside) assert.is(await admin.get(key), 'keep', `${key} survives`);
    assert.equal(await second.list({}), []);
  } finally {
    await admin.del(...outside);
  }
});

test('the same operator verbs on Redis and SQLite give the same answers', async () => {
  const redis = await open();
  const sqlite = await openStore(testStoreConfig({ kind: 'Sqlite', uri: 'sqlite://:memory:' }));
  opened.push(sqlite);
  const backends = { redis, sqlite };

  const jobs = [
    newJob('EchoWorker', { task_data: { n: 1 }, queue: 'reports', interval: 60_000 }),
    newJob('EchoWorker', { task_data: { n: 2 }, run_at: Date.now() + 60_000 }),
    newJob('EchoWorker', { task_data: { n: 3 } }),
    newJob('EmailWorker', { task_data: { n: 4 }, tags: ['email', 'Email'] }),
    newJob('EmailWorker', { task_data: { n: 5 }, tags: ['email'], run_at: Date.now() + 60_000 }),
    newJob('FlakyWorker', { task_data: { n: 6 }, max_attempts: 1 }),
    newJob('FlakyWorker', { task_data: { n: 7 }, max_attempts: 3 }),
  ];
  // What a user can see of a record: everything but the clocks, and whether it changed since `mark`.
  let mark = 0;
  const shape = (rows: JobRecord[]) =>
    rows.map(({ created_at, updated_at, run_at, lease_until, ...rest }) => ({
      ...rest,
      leased: lease_until !== null,
      changed: updated_at >= mark,
      due: run_at <= Date.now(),
    }));
  const newest = async (backend: QueueBackend, status: JobRecord['status']) =>
    Math.max(...(await backend.list({ statuses: [status] })).map((row) => row.updated_at));
  const each = async <T>(step: (backend: QueueBackend) => Promise<T>): Promise<T> => {
    const redisAnswer = await step(backends.redis);
    const sqliteAnswer = await step(backends.sqlite);
    assert.equal(redisAnswer, sqliteAnswer);
    return redisAnswer;
  };

  // Steps a few ms apart, so that the time bounds below fall between them on both stores.
  await each(async (backend) => {
    const ids = await backend.enqueue(jobs);
    await sleep(3);
    return ids;
  });
  await each(async (backend) => {
    const claimed = await backend.claim(claimOf(['EchoWorker', 'FlakyWorker']));
    await sleep(3);
    await backend.finish([
      completedOutcome({ id: jobs[2].id, attempts: 1 }),
      failedOutcome({ id: jobs[5].id, attempts: 1 }, 'Error: boom'),
      retryOutcome({ id: jobs[6].id, attempts: 1 }, 'Error: again', Date.now() + 60_000),
    ]);
    await sleep(3);
    return claimed.map((row) => row.id).sort();
  });
  await each(async (backend) => shape(await backend.list({})));
  await each((backend) => backend.stats());
  await each(async (backend) => shape(await backend.list({ statuses: ['queued'] })));
  await each(async (backend) => shape(await backend.list({ name: 'EchoWorker' })));
  await each(async (backend) => shape(await backend.list({ statuses: ['processing', 'failed'], name: 'FlakyWorker' })));
  await each(async (backend) => shape(await backend.list({ limit: 3 })));
  await each(async (backend) => shape(await backend.list({ updatedBefore: Date.now() - 60_000 })));
  // The time bounds: list and remove take updated_at < bound, requeue takes updated_at <= bound.
  await each(async (backend) => shape(await backend.list({ updatedBefore: await newest(backend, 'completed') })));
  await each(async (backend) => shape(await backend.list({ updatedBefore: (await newest(backend, 'completed')) + 1 })));
  await sleep(5);
  mark = Date.now();
  await each((backend) => backend.cancel('EmailWorker'));
  await each((backend) => backend.cancel('EmailWorker'));
  await each(async (backend) => shape(await backend.list({})));
  await each((backend) => backend.stats());
  await sleep(5);
  mark = Date.now();
  await each(async (backend) => backend.requeue((await newest(backend, 'processing')) - 1));
  await each(async (backend) => backend.requeue(await newest(backend, 'processing')));
  await each(async (backend) => shape(await backend.list({ statuses: ['queued', 'processing'] })));
  await each(async (backend) =>
    backend.remove({ statuses: ['completed'], updatedBefore: await newest(backend, 'completed') }),
  );
  await each((backend) => backend.remove({ statuses: ['completed', 'cancelled'], updatedBefore: Date.now() - 60_000 }));
  await each((backend) => backend.remove({ statuses: ['failed'], ids: [jobs[0].id, jobs[5].id] }));
  await each((backend) => backend.remove({ statuses: ['completed', 'cancelled'] }));
  await each(async (backend) => shape(await backend.list({})));
  await each((backend) => backend.stats());
  // Requeued jobs are claimable again: a job requeued while processing runs again.
  await each(async (backend) =>
    (await backend.claim(claimOf(['EchoWorker', 'FlakyWorker']))).map((row) => [row.id, row.attempts]),
  );
});

test('removing many jobs goes in batches and removes them all', async () => {
  const backend = await open();
  const jobs = Array.from({ length: 2500 }, (_, n) => newJob('EchoWorker', { task_data: { n } }));
  await backend.enqueue(jobs);
  while ((await backend.claim(claimOf(['EchoWorker'], { limit: 500 }))).length > 0);
  const claimed = await backend.list({ statuses: ['processing'] });
  await backend.finish(claimed.map((row) => completedOutcome(row)));
  assert.equal(await backend.stats(), [{ name: 'EchoWorker', status: 'completed', count: 2500 }]);
  assert.is(await backend.remove({ statuses: ['completed'] }), 2500);
  assert.equal(await backend.stats(), []);
});

test('an enqueue with an id already in the queue is refused whole', async () => {
  const backend = await open();
  const existing = newJob('EchoWorker');
  await backend.enqueue([existing]);
  const fresh = newJob('EchoWorker');
  try {
    await backend.enqueue([fresh, { ...existing, task_data: { other: true } }]);
    assert.unreachable('should refuse');
  } catch (err) {
    assert.match((err as Error).message, `a job with id ${existing.id} is already in the Redis queue`);
  }
  assert.equal(
    (await backend.list({})).map((row) => [row.id, row.task_data]),
    [[existing.id, { name: 'EchoWorker' }]],
  );
});

test('every Lua script names its KEYS and ARGV in its header, and uses no others', () => {
  const files = readdirSync(SCRIPTS_DIR).filter((file) => file.endsWith('.lua'));
  assert.equal(files.map((file) => file.replace(/\.lua$/, '')).sort(), [...SCRIPT_NAMES].sort());
  for (const file of files) {
    const source = readFileSync(path.join(SCRIPTS_DIR, file), 'utf8');
    const header = /^--\[\[([\s\S]*?)\]\]/.exec(source);
    assert.ok(header, `${file} starts with a --[[ ... ]] header`);
    assert.match(
      header[1],
      /Input:[\s\S]*KEYS\[1\][\s\S]*ARGV\[1\][\s\S]*Output:/,
      `${file}: header lists KEYS, ARGV and the output`,
    );
    const body = source.slice(header[0].length);
    for (const [used] of body.matchAll(/(KEYS|ARGV)\[\d+\]/g)) {
      assert.ok(header[1].includes(used), `${file} uses ${used}, which its header does not describe`);
    }
    const script = LUA_SCRIPTS[file.replace(/\.lua$/, '') as (typeof SCRIPT_NAMES)[number]];
    assert.not.match(script.lua, /@include/, `${file}: includes are inlined`);
    const highest = Math.max(0, ...[...header[1].matchAll(/KEYS\[(\d+)\]/g)].map((match) => Number(match[1])));
    assert.is(script.numberOfKeys, highest, `${file}: KEYS[1..${highest}] documented without gaps`);
  }
});

test('the scripts module is built from the .lua files as they are (npm run build:lua)', () => {
  const check = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build-lua.mjs'), '--check'], {
    encoding: 'utf8',
  });
  assert.is(check.status, 0, check.stderr);
});

test('jobs land in the database the URI names; one the server does not have is refused at init', async () => {
  const inDatabase = (db: number) => {
    const url = new URL(BASE_URI);
    url.pathname = `/${db}`;
    return url.toString().replace(/\?.*$/, '');
  };
  const other = new Redis(inDatabase(3));
  try {
    const backend = await openStore(testStoreConfig({ kind: 'Redis', uri: `${inDatabase(3)}?prefix=${prefix}` }));
    opened.push(backend);
    const queued = newJob('EchoWorker');
    await backend.enqueue([queued]);
    assert.is(await other.exists(`{${prefix}}:job:${queued.id}`), 1, 'the job is in database 3');
    assert.is(await admin.exists(`{${prefix}}:job:${queued.id}`), 0, 'and not in database 0');
    assert.equal(
      (await backend.list({})).map((row) => row.id),
      [queued.id],
    );
    await deleteQueueKeys(other, prefix);

    const databases = Number(((await admin.config('GET', 'databases')) as string[])[1]);
    try {
      await openStore(testStoreConfig({ kind: 'Redis', uri: `${inDatabase(databases)}?prefix=${prefix}` }));
      assert.unreachable('should refuse');
    } catch (err) {
      assert.instance(err, QueueConnectionError);
      assert.match(
        (err as Error).message,
        new RegExp(
          `Cannot use database ${databases} of the Redis server at redis://.*: DB index is out of range\\. The server has as many databases as its databases setting says`,
        ),
      );
    }
    assert.equal(await admin.keys(`*${prefix}*`), [], 'nothing was written to database 0');
  } finally {
    await other.quit();
  }
});

test.run();
