// SQLite specifics: the claim's plan, and what the file looks like.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QueueConnectionError, silentLogger } from '../../../runtime/src/internals.js';
import { SqliteBackend } from '../../../runtime/src/queue/sqlite/backend.js';
import {
  dueJobs,
  MIGRATIONS,
  reapExpiredJobs,
  requeueStale,
  runningByKey,
} from '../../../runtime/src/queue/sqlite/sql.js';
import { parseSqliteUri } from '../../../runtime/src/queue/sqlite/uri.js';
import { newJob, testStoreConfig } from '../helpers.js';

const folder = mkdtempSync(path.join(os.tmpdir(), 'loco-sqlite-'));

test('the claim walks the claim index of its tag rule in order, without statistics and without a sort', async () => {
  const file = path.join(folder, 'plan.sqlite');
  const backend = new SqliteBackend(testStoreConfig({ kind: 'Sqlite', uri: `sqlite://${file}` }), {
    root: folder,
    logger: silentLogger,
  });
  await backend.init({ flush: false });
  await backend.close();
  const db = new Database(file);
  const indexes = {
    untagged: 'loco_jobs_claim ',
    tagged: 'loco_jobs_claim_tagged',
    matching: 'loco_jobs_claim_tagged',
  };
  for (const variant of ['untagged', 'tagged', 'matching'] as const) {
    const plan = (
      db
        .prepare(`EXPLAIN QUERY PLAN ${dueJobs(variant, 10, true)}`)
        .all({ name: 'EchoWorker', now: 0, tags: '[]', paused: '[]' }) as Array<{
        detail: string;
      }>
    )
      .map((row) => row.detail)
      .join('\n');
    assert.match(plan, `USING INDEX ${indexes[variant]}`, `${variant}:\n${plan}`);
    assert.not.match(plan, 'TEMP B-TREE', `${variant} sorts:\n${plan}`);
  }
  db.close();
});

test('one index of the running jobs serves the reaper, the stale requeue and the concurrency count; a store of the version before gets it at init', async () => {
  // A store as the version before left it: six migrations, two indexes of the running jobs, and
  // a running job whose lease has run out.
  const file = path.join(folder, 'running-index.sqlite');
  const old = new Database(file);
  old.pragma('journal_mode = WAL');
  for (const migration of MIGRATIONS.slice(0, 6)) old.exec(migration);
  old.pragma('user_version = 6');
  old
    .prepare(
      `INSERT INTO loco_jobs (id, name, task_data, status, run_at, attempts, max_attempts, lease_until, created_at, updated_at)
       VALUES ('old-running', 'EchoWorker', '{}', 'processing', 1, 1, 3, 1000, 1, 1)`,
    )
    .run();
  old.close();

  const backend = new SqliteBackend(testStoreConfig({ kind: 'Sqlite', uri: `sqlite://${file}` }), {
    root: folder,
    logger: silentLogger,
  });
  await backend.init({ flush: false });
  try {
    const db = new Database(file);
    const indexes = (
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'loco_jobs_%'`).all() as Array<{
        name: string;
      }>
    ).map((row) => row.name);
    assert.ok(indexes.includes('loco_jobs_processing'), indexes.join(', '));
    assert.not.ok(indexes.includes('loco_jobs_lease') || indexes.includes('loco_jobs_running'), indexes.join(', '));
    const plan = (statement: string, params: Record<string, unknown>) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${statement}`).all(params) as Array<{ detail: string }>)
        .map((row) => row.detail)
        .join('\n');
    for (const [what, statement, params] of [
      ['reaper', reapExpiredJobs, { now: 0, error: '' }],
      ['stale requeue', requeueStale, { now: 0, updated_before: 0 }],
      ['concurrency count', runningByKey, { name: 'EchoWorker' }],
    ] as const) {
      assert.match(plan(statement, params), 'INDEX loco_jobs_processing', `${what}:\n${plan(statement, params)}`);
    }
    db.close();
    assert.is(await backend.reapExpired(2000), 1, "the old store's running job is found when its lease has run out");
    assert.is((await backend.get('old-running'))?.status, 'queued');
  } finally {
    await backend.close();
  }
});

test("WAL mode, a busy timeout, SQLite's 2 MiB page cache, and a schema version", async () => {
  const file = path.join(folder, 'pragmas.sqlite');
  const backend = new SqliteBackend(testStoreConfig({ kind: 'Sqlite', uri: `sqlite://${file}?mode=rwc` }), {
    root: folder,
    logger: silentLogger,
  });
  await backend.init({ flush: false });
  const own = (backend as unknown as { db: Database.Database }).db;
  assert.is(own.pragma('cache_size', { simple: true }), -2000, "not better-sqlite3's default of 16 MiB");
  assert.is(own.pragma('busy_timeout', { simple: true }), 5000);
  await backend.close();
  const db = new Database(file);
  assert.is(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.is(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
  db.close();
});

test('URIs: relative paths resolve from the app root; mode=rw needs the file; bad modes are named', async () => {
  assert.equal(parseSqliteUri('sqlite://loco_development.sqlite?mode=rwc', '/app'), {
    file: '/app/loco_development.sqlite',
    mode: 'rwc',
  });
  assert.equal(parseSqliteUri('sqlite:///var/q.sqlite', '/app'), { file: '/var/q.sqlite', mode: 'rwc' });
  assert.throws(() => parseSqliteUri('sqlite://q.sqlite?mode=rwx', '/app'), /mode must be rwc, rw or ro, found 'rwx'/);
  const missing = new SqliteBackend(
    testStoreConfig({ kind: 'Sqlite', uri: `sqlite://${folder}/absent.sqlite?mode=rw` }),
    {
      root: folder,
      logger: silentLogger,
    },
  );
  try {
    await missing.init({ flush: false });
    assert.unreachable('should refuse');
  } catch (err) {
    assert.instance(err, QueueConnectionError);
    assert.match((err as Error).message, `Cannot open the SQLite queue sqlite://${folder}/absent.sqlite: `);
    assert.match((err as Error).message, 'Use ?mode=rwc to create it.');
  }
});

test.after(() => rmSync(folder, { recursive: true, force: true }));

test('tidy gives space back: a new file shrinks after its jobs are deleted; an old file after --vacuum', async () => {
  const filler = 'x'.repeat(2000);
  const newJobs = (count: number) =>
    Array.from({ length: count }, (_, n) =>
      newJob('EchoWorker', { id: `space-${String(n).padStart(8, '0')}`, task_data: { n, filler } }),
    );
  const open = async (file: string) => {
    const backend = new SqliteBackend(testStoreConfig({ kind: 'Sqlite', uri: `sqlite://${file}` }), {
      root: folder,
      logger: silentLogger,
    });
    await backend.init({ flush: false });
    return backend;
  };

  const file = path.join(folder, 'space.sqlite');
  const backend = await open(file);
  await backend.enqueue(newJobs(5000));
  await backend.remove({ statuses: ['queued'] });
  const report = await backend.reclaimSpace({ vacuum: false });
  await backend.close();
  assert.ok(report.before! > 10 * 2 ** 20, `about 10 MiB of jobs were written (${report.before} bytes)`);
  assert.ok(report.after! < report.before! / 10, `most of it was given back: ${report.before} -> ${report.after}`);
  assert.match(report.note, 'incremental vacuum');

  // A file made before auto_vacuum was set keeps its free pages until --vacuum rebuilds it.
  const old = path.join(folder, 'old.sqlite');
  const db = new Database(old);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE app_data (n INTEGER)');
  db.close();
  const oldBackend = await open(old);
  await oldBackend.enqueue(newJobs(5000));
  await oldBackend.remove({ statuses: ['queued'] });
  const kept = await oldBackend.reclaimSpace({ vacuum: false });
  assert.ok(kept.after! > 10 * 2 ** 20, `free pages are kept: ${kept.after} bytes`);
  assert.match(kept.note, '--vacuum rebuilds it');
  const rebuilt = await oldBackend.reclaimSpace({ vacuum: true });
  assert.ok(rebuilt.after! < kept.after! / 10, `VACUUM gave them back: ${kept.after} -> ${rebuilt.after}`);
  const again = new Database(old);
  assert.is(again.pragma('auto_vacuum', { simple: true }), 2, 'and turned incremental vacuum on');
  again.close();
  await oldBackend.close();
});

test.run();
