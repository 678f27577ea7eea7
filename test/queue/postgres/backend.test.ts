// Postgres backend: migrations, the claim's index, flushing, the operator verbs and how data is
// stored. Needs PostgreSQL on 127.0.0.1:5432 (or LOCO_TEST_POSTGRES_URI); every test works in
// schemas of its own and drops them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type NewJob, QueueConnectionError, type StoreConfig, silentLogger } from '../../../runtime/src/internals.js';
import { PostgresBackend } from '../../../runtime/src/queue/postgres/backend.js';
import * as sql from '../../../runtime/src/queue/postgres/sql.js';
import { parsePostgresUri } from '../../../runtime/src/queue/postgres/uri.js';
import { POSTGRES_URI, postgresAdmin } from '../../stores.js';
import { completedOutcome, failedOutcome, newJob, ROOT, testStoreConfig } from '../helpers.js';

const BASE_URI = POSTGRES_URI;
let serial = 0;
const schemas: string[] = [];
const backends: PostgresBackend[] = [];

/** A schema name no other test run uses, dropped after the test. */
function newSchema(): string {
  const schema = `loco_test_${process.pid}_s${++serial}`;
  schemas.push(schema);
  return schema;
}

function config(schema: string): StoreConfig {
  return testStoreConfig({ kind: 'Postgres', uri: `${BASE_URI}?schema=${schema}` });
}

async function open(schema: string, flush = false): Promise<PostgresBackend> {
  const backend = new PostgresBackend(config(schema), { root: ROOT, logger: silentLogger });
  backends.push(backend);
  await backend.init({ flush });
  return backend;
}

function jobs(count: number, name = 'EchoWorker', extra: Partial<NewJob> = {}): NewJob[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, n) =>
    newJob(name, { id: `job-${String(++serial).padStart(8, '0')}`, task_data: { n }, run_at: now, ...extra }),
  );
}

const test = suite('postgres backend: schema, index, flush and operator verbs');

test.after.each(async () => {
  for (const backend of backends.splice(0)) await backend.close();
  const dropped = schemas.splice(0);
  await postgresAdmin(async (client) => {
    for (const schema of dropped) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
});

test('migrations are recorded once and a second boot applies nothing', async () => {
  const schema = newSchema();
  await open(schema);
  await open(schema);
  const applied = await postgresAdmin((client) =>
    client.query(`SELECT version, name FROM "${schema}".loco_queue_migrations ORDER BY version`),
  );
  assert.equal(
    applied.rows,
    sql.MIGRATIONS.map((migration) => ({ version: migration.version, name: migration.name })),
  );
});

test('six processes booting at once on a new schema all succeed and migrate it once', async () => {
  const schema = newSchema();
  const booted = await Promise.allSettled(Array.from({ length: 6 }, () => open(schema)));
  assert.equal(
    booted.map((result) => result.status),
    Array(6).fill('fulfilled'),
  );
  const applied = await postgresAdmin((client) =>
    client.query(`SELECT count(*)::int AS n FROM "${schema}".loco_queue_migrations`),
  );
  assert.is(applied.rows[0].n, sql.MIGRATIONS.length);
});

test('a schema migrated by a newer runtime is refused with a clear error', async () => {
  const schema = newSchema();
  await open(schema);
  await postgresAdmin((client) =>
    client.query(`INSERT INTO "${schema}".loco_queue_migrations (version, name) VALUES (999, 'from the future')`),
  );
  try {
    await open(schema);
    assert.unreachable('should refuse');
  } catch (err) {
    assert.instance(err, QueueConnectionError);
    assert.match((err as Error).message, 'is at migration 999, newer than this loco-runtime knows');
  }
});

test('the claim walks the claim index of its tag rule (untagged, tagged, or both), even with statistics from an empty table', async () => {
  const schema = newSchema();
  const backend = await open(schema);
  const t = sql.sqlNames(schema);
  // Statistics taken while the queue was empty, as between bursts; then a burst arrives.
  await postgresAdmin((client) => client.query(`ANALYZE ${t.jobs}`));
  await backend.enqueue(jobs(2000));
  await backend.enqueue(jobs(500, 'EmailWorker', { tags: ['email'] }));
  const settings = Object.entries(sql.CLAIM_PLANNER_SETTINGS);
  const proconfig = await postgresAdmin((client) =>
    client.query(`SELECT proconfig FROM pg_proc WHERE oid = '${t.schema}.loco_claim_jobs'::regproc`),
  );
  assert.equal(
    proconfig.rows[0].proconfig,
    settings.map(([name, value]) => `${name}=${value}`),
    'the claim function plans with these settings',
  );
  for (const variant of ['untagged', 'matching', 'any'] as const) {
    const plan = await postgresAdmin(async (client) => {
      await client.query('BEGIN');
      for (const [name, value] of settings) await client.query(`SET LOCAL ${name} = ${value}`);
      await client.query(
        `PREPARE claim_probe (bigint, bigint, text, integer, text[]) AS ${sql.dueJobsOfName(t, variant, '$3', '$4')}`,
      );
      const explained = await client.query(
        `EXPLAIN EXECUTE claim_probe(${Date.now()}, 0, 'EchoWorker', 10, '{email}')`,
      );
      await client.query('ROLLBACK');
      return explained.rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    if (variant !== 'matching')
      assert.match(plan, /Index Scan using loco_jobs_claim on loco_jobs/, `${variant}:\n${plan}`);
    if (variant !== 'untagged')
      assert.match(plan, /Index Scan using loco_jobs_claim_tagged on loco_jobs/, `${variant}:\n${plan}`);
    assert.not.match(plan, /Sort/, `${variant}: no sort of every due job:\n${plan}`);
    assert.match(plan, /LockRows/, variant);
  }
  const claimed = await backend.claim({
    names: ['EchoWorker'],
    tags: [],
    limit: 10,
    leaseMs: 5000,
    now: Date.now() + 1,
  });
  assert.is(claimed.length, 10);
});

test("dangerously_flush deletes this queue's jobs only: other schemas and tables are left alone", async () => {
  const mine = newSchema();
  const other = newSchema();
  const backend = await open(mine);
  const neighbour = await open(other);
  await backend.enqueue(jobs(3));
  await neighbour.enqueue(jobs(2));
  await postgresAdmin((client) =>
    client.query(`CREATE TABLE "${mine}".app_data (n int); INSERT INTO "${mine}".app_data VALUES (1), (2)`),
  );
  const flushed = await open(mine, true);
  assert.equal(await flushed.list({}), []);
  assert.is((await neighbour.list({})).length, 2, 'the other schema keeps its jobs');
  const kept = await postgresAdmin((client) => client.query(`SELECT count(*)::int AS n FROM "${mine}".app_data`));
  assert.is(kept.rows[0].n, 2, "the app's own table in the same schema is untouched");
});

test('records come back with numbers for times, args as written and tags as lists', async () => {
  const backend = await open(newSchema());
  const runAt = Date.now() + 60_000;
  const args = { z: 1, a: 'nul \u0000 and "quotes" \\ ok', list: [1, null, { deep: true }] };
  const [job] = jobs(1, 'EchoWorker', {
    task_data: args,
    run_at: runAt,
    interval: 5000,
    tags: ['a b', 'Ü,{}'],
    queue: 'mail',
    created_at: 1234,
  });
  await backend.enqueue([job]);
  const [record] = await backend.list({});
  assert.equal(record.task_data, args);
  assert.is(JSON.stringify(record.task_data), JSON.stringify(args), 'key order is kept');
  assert.is(record.run_at, runAt);
  assert.is(record.interval, 5000);
  assert.equal(record.tags, ['a b', 'Ü,{}']);
  assert.is(record.queue, 'mail');
  assert.is(record.created_at, 1234);
  assert.type(record.updated_at, 'number');
  assert.is(record.lease_until, null);
  const many = jobs(3, 'EchoWorker', { tags: ['x'], task_data: { s: '\u0000' } });
  many[1].tags = [];
  many[2].tags = ['y', 'z'];
  await backend.enqueue(many);
  const stored = (await backend.list({})).filter((row) => row.id !== job.id);
  assert.equal(
    stored.map((row) => row.tags),
    [['x'], [], ['y', 'z']],
  );
  assert.equal(stored[0].task_data, { s: '\u0000' });
});

test('an error message with a NUL character is stored instead of failing the write', async () => {
  const backend = await open(newSchema());
  const [job] = jobs(1);
  await backend.enqueue([job]);
  const [claimed] = await backend.claim({
    names: ['EchoWorker'],
    tags: [],
    limit: 1,
    leaseMs: 5000,
    now: Date.now() + 1,
  });
  await backend.finish([failedOutcome(claimed, 'bad \u0000 byte')]);
  const [record] = await backend.list({});
  assert.is(record.status, 'failed');
  assert.is(record.last_error, 'bad \\0 byte');
});

test('operator verbs: list filters, stats, cancel, remove and requeue', async () => {
  const backend = await open(newSchema());
  const echo = jobs(4);
  const report = jobs(2, 'ReportWorker');
  await backend.enqueue(echo);
  await backend.enqueue(report);
  const claimed = await backend.claim({
    names: ['EchoWorker'],
    tags: [],
    limit: 2,
    leaseMs: 60_000,
    now: Date.now() + 1,
  });
  await backend.finish([completedOutcome(claimed[0])]);

  assert.equal(
    (await backend.list({ statuses: ['processing'] })).map((row) => row.id),
    [echo[1].id],
  );
  assert.equal(
    (await backend.list({ name: 'ReportWorker' })).map((row) => row.id),
    report.map((row) => row.id),
  );
  assert.equal(
    (await backend.list({ limit: 2 })).map((row) => row.id),
    [report[1].id, report[0].id],
    'newest first',
  );
  assert.equal(await backend.list({ updatedBefore: 0 }), []);
  assert.is((await backend.list({ updatedBefore: Date.now() + 1000 })).length, 6);
  assert.equal(await backend.stats(), [
    { name: 'EchoWorker', status: 'completed', count: 1 },
    { name: 'EchoWorker', status: 'processing', count: 1 },
    { name: 'EchoWorker', status: 'queued', count: 2 },
    { name: 'ReportWorker', status: 'queued', count: 2 },
  ]);

  assert.is(await backend.cancel('ReportWorker'), 2);
  assert.is(await backend.requeue(Date.now() - 60_000), 0, 'the running job is recent');
  assert.is(await backend.requeue(Date.now() + 1000), 1);
  assert.is((await backend.list({ statuses: ['queued'] })).length, 3);
  assert.is(await backend.remove({ statuses: ['cancelled'], ids: [report[0].id] }), 1);
  assert.is(await backend.remove({ statuses: ['completed', 'cancelled'], updatedBefore: 0 }), 0);
  assert.is(await backend.remove({ statuses: ['completed', 'cancelled'] }), 2);
  assert.equal(
    (await backend.stats()).map((row) => `${row.name} ${row.status} ${row.count}`),
    ['EchoWorker queued 3'],
  );
});

test('the URI: ?schema= is taken out, the password never shown, bad schema names refused', () => {
  const location = parsePostgresUri('postgres://app:s3cret@db.example:5433/prod?schema=jobs&sslmode=disable');
  assert.is(location.schema, 'jobs');
  assert.is(location.connectionString, 'postgres://app:s3cret@db.example:5433/prod?sslmode=disable');
  assert.is(location.display, 'postgres://app@db.example:5433/prod?schema=jobs&sslmode=disable');
  assert.is(parsePostgresUri('postgresql://localhost/db').schema, 'public');
  for (const bad of ['a-b', '1abc', 'x;drop', 'a'.repeat(59)]) {
    assert.throws(
      () => parsePostgresUri(`postgres://u:pw@localhost/db?schema=${bad}`),
      (err: Error) =>
        err instanceof QueueConnectionError &&
        err.message.includes('letters, digits and underscores') &&
        !err.message.includes('pw@'),
    );
  }
});

test.run();
