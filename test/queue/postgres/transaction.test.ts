// Enqueue inside the app's own Postgres transaction: the job is written by the app's client,
// appears with its commit, vanishes with its rollback, and no worker sees it before the commit.
import pg from 'pg';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundWorker, type QueueBackend } from '../../../runtime/src/internals.js';
import { POSTGRES_URI, postgresStore } from '../../stores.js';
import { openStore, runUntil, sleep, testContext, testStoreConfig } from '../helpers.js';

const ran: unknown[] = [];
class SignupWorker extends BackgroundWorker<{ user: string }> {
  async perform(args: { user: string }): Promise<void> {
    ran.push(args);
  }
}

const store = postgresStore('tx');
const test = suite('postgres: enqueue in the app transaction');
let backend: QueueBackend;
let client: pg.Client;

test.before.each(async () => {
  ran.length = 0;
  backend = await openStore(testStoreConfig({ kind: 'Postgres', uri: store.fresh() }));
  client = new pg.Client({ connectionString: POSTGRES_URI });
  await client.connect();
});
test.after.each(async () => {
  await client.end();
  await backend.close();
  await store.drop();
});

test('a rollback takes the job with it', async () => {
  const ctx = testContext(backend);
  ctx.queue.register(SignupWorker.build(ctx));
  await client.query('BEGIN');
  const id = (await SignupWorker.performLater(ctx, { user: 'ada' }, { client }))!;
  assert.is((await backend.get(id))?.id, undefined, 'not visible outside the transaction');
  await client.query('ROLLBACK');
  assert.equal(await backend.list({}), []);
});

test('a worker sees the job only after the commit, and the commit wakes it at once', async () => {
  const ctx = testContext(backend);
  ctx.queue.register(SignupWorker.build(ctx));
  const worker = runUntil(ctx, () => ran.length === 2, { pollIntervalMs: 10_000, timeoutMs: 6000 });
  await sleep(200);
  await client.query('BEGIN');
  const id = (await SignupWorker.performLater(ctx, { user: 'grace' }, { client }))!;
  // A keyed job in the same transaction, written by the same client.
  const keyed = await SignupWorker.performLater(ctx, { user: 'grace' }, { client, key: 'signup-grace' });
  await client.query(`SELECT pg_sleep(0.5)`);
  assert.equal(ran, [], 'no worker saw a job of an open transaction');
  const committed = Date.now();
  await client.query('COMMIT');
  await worker;
  assert.is(ran.length, 2);
  assert.ok(Date.now() - committed < 3000, 'woken by the commit, not by the 10 s poll');
  assert.is((await backend.get(id))?.status, 'completed');
  assert.is((await backend.get(keyed!))?.key, 'signup-grace');
});

test('a client that is not a pg client is refused, naming what is expected', async () => {
  const ctx = testContext(backend);
  ctx.queue.register(SignupWorker.build(ctx));
  try {
    await SignupWorker.performLater(ctx, { user: 'x' }, { client: { not: 'a client' } });
    assert.unreachable('should throw');
  } catch (err) {
    assert.match((err as Error).message, "the Postgres queue takes the app's pg client");
  }
  assert.equal(await backend.list({}), []);
});

test.run();
