// Enqueue inside the app's own SQLite transaction, on the app's better-sqlite3 Database on the
// queue's file: the job appears with the commit, vanishes with a rollback, and a worker process
// never sees it before the commit.
import Database from 'better-sqlite3';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BackgroundWorker, type QueueBackend } from '../../../runtime/src/internals.js';
import { sqliteStore } from '../../stores.js';
import { exited, openStore, sleep, spawnWorkerProcess, testContext, testStoreConfig } from '../helpers.js';

/** The fixture worker process registers HangWorker; the job prints `started <label>`. */
class HangWorker extends BackgroundWorker<{ ms: number; label: string }> {
  async perform(): Promise<void> {}
}

const store = sqliteStore('tx');
const test = suite('sqlite: enqueue in the app transaction');
let backend: QueueBackend;
let db: Database.Database;
let uri: string;

test.before.each(async () => {
  uri = store.fresh();
  backend = await openStore(testStoreConfig({ kind: 'Sqlite', uri }));
  db = new Database(uri.replace(/^sqlite:\/\//, '').replace(/\?.*$/, ''));
});
test.after.each(async () => {
  db.close();
  await backend.close();
  await store.drop();
});

test('a rollback takes the job with it', async () => {
  const ctx = testContext(backend);
  ctx.queue.register(HangWorker.build(ctx));
  db.exec('BEGIN IMMEDIATE');
  const id = (await HangWorker.performLater(ctx, { ms: 1, label: 'a' }, { client: db }))!;
  assert.ok(db.prepare('SELECT id FROM loco_jobs WHERE id = ?').get(id), 'written on the app connection');
  db.exec('ROLLBACK');
  assert.equal(await backend.list({}), []);
});

test('a worker process sees the job only after the commit', async () => {
  const ctx = testContext(backend);
  ctx.queue.register(HangWorker.build(ctx));
  const { child, output } = await spawnWorkerProcess(testStoreConfig({ kind: 'Sqlite', uri }), {}, /ready/);
  try {
    db.exec('BEGIN IMMEDIATE');
    const id = (await HangWorker.performLater(ctx, { ms: 1, label: 'committed' }, { client: db }))!;
    await sleep(400);
    assert.not.match(output(), 'started committed', 'not seen while the transaction is open');
    db.exec('COMMIT');
    const deadline = Date.now() + 8000;
    while (!output().includes('finished committed') && Date.now() < deadline) await sleep(20);
    assert.match(output(), 'finished committed');
    await sleep(100);
    assert.is((await backend.get(id))?.status, 'completed');
  } finally {
    child.kill('SIGTERM');
    await exited(child);
  }
});

test("the app's Database must be on the queue's file, inside a transaction", async () => {
  const ctx = testContext(backend);
  ctx.queue.register(HangWorker.build(ctx));
  const other = new Database(':memory:');
  try {
    const refusals: Array<[unknown, string]> = [
      [db, 'the Database given has no open transaction'],
      [other, "a job can only be written in a transaction on the queue's own file"],
      [{ not: 'a db' }, "the SQLite queue takes the app's better-sqlite3 Database"],
    ];
    for (const [client, message] of refusals) {
      const refused = await HangWorker.performLater(ctx, { ms: 1, label: 'x' }, { client }).then(
        () => 'accepted',
        (err: Error) => err.message,
      );
      assert.match(refused, message);
    }
  } finally {
    other.close();
  }
  assert.equal(await backend.list({}), []);
});

test.run();
