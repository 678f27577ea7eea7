// The `loco jobs ...` suite: every command run as a real child process inside a copy of the
// fixture app (test/fixtures/apps/jobs-app), against one durable store, checked through the
// store itself. Each backend's test file runs it with its own store.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import type { QueueBackend } from '../../../runtime/src/internals.js';
import { completedOutcome, exited, openStore, testStoreConfig } from '../../queue/helpers.js';
import type { TestStore } from '../../stores.js';
import {
  type CliResult,
  copyFixtureApp,
  countByStatus,
  DUMPS,
  jobsById,
  portable,
  runLoco,
  seed,
  sleep,
  startLoco,
} from '../helpers.js';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const LOCO_FIELDS = ['id', 'name', 'task_data', 'status', 'run_at', 'interval', 'tags', 'created_at', 'updated_at'];
const OUR_FIELDS = ['queue', 'priority', 'key', 'attempts', 'max_attempts', 'last_error', 'traceparent'];

export function runJobsCli(store: TestStore): void {
  const test = suite(`loco jobs: ${store.name}`);
  let app: string;
  let env: Record<string, string>;
  let backend: QueueBackend;

  /** `loco jobs <args> -e test` in the app copy. */
  const jobs = (...args: string[]) => runLoco(app, ['jobs', ...args, '-e', 'test'], env);
  const failsClearly = (result: CliResult, message: RegExp, what: string) => {
    assert.is(result.code, 1, `${what}: exit code 1 (stdout: ${result.stdout}, stderr: ${result.stderr})`);
    assert.match(result.stderr, message, what);
    assert.not.match(result.stderr, /\n\s+at .+:\d+:\d+/, `${what}: no stack trace`);
  };
  const succeeds = (result: CliResult, what: string) => {
    assert.is(result.code, 0, `${what}: exit code 0 (stdout: ${result.stdout}, stderr: ${result.stderr})`);
  };
  const dumpPath = (stdout: string): string => {
    const match = /Wrote \d+ jobs? to (\S+\.yaml)/.exec(stdout);
    assert.ok(match, `prints the dump's path: ${stdout}`);
    return path.resolve(app, match![1]);
  };

  test.before(() => {
    app = copyFixtureApp();
  });
  test.after(() => {
    rmSync(app, { recursive: true, force: true });
  });
  test.before.each(async () => {
    const uri = store.fresh();
    env = { LOCO_TEST_QUEUE_KIND: store.kind, LOCO_TEST_QUEUE_URI: uri };
    backend = await openStore(testStoreConfig({ kind: store.kind, uri }));
  });
  test.after.each(async () => {
    await backend.close();
    await store.drop();
  });

  test("enqueue: prints the id; args, the worker's tags and queue by default, --tags and --delay", async () => {
    const before = Date.now();
    const [mail, download] = await Promise.all([
      jobs('enqueue', 'EmailWorker', '--args', '{"to":"ada@example.com","subject":"Hi"}'),
      runLoco(
        app,
        [
          'jobs',
          '-e',
          'test',
          'enqueue',
          'DownloadWorker',
          '--args',
          '{"url":"https://example.com/a.pdf"}',
          '--tags',
          'bulk,slow',
          '--delay',
          '1h',
        ],
        env,
      ),
    ]);
    succeeds(mail, 'enqueue EmailWorker');
    succeeds(download, 'enqueue DownloadWorker');
    const mailId = mail.stdout.trim();
    const downloadId = download.stdout.trim();
    assert.match(mailId, ULID, 'stdout is the job id alone');
    assert.match(downloadId, ULID);

    const stored = await jobsById(backend);
    const email = stored.get(mailId)!;
    assert.is(email.name, 'EmailWorker');
    assert.equal(email.task_data, { to: 'ada@example.com', subject: 'Hi' });
    assert.equal(email.tags, ['email'], "the worker's tags()");
    assert.is(email.queue, 'mailers', "the worker's queue()");
    assert.is(email.status, 'queued');
    assert.ok(email.run_at <= Date.now(), 'due at once');
    const later = stored.get(downloadId)!;
    assert.equal(later.tags, ['bulk', 'slow'], "--tags replaces the worker's");
    assert.equal(later.task_data, { url: 'https://example.com/a.pdf' });
    assert.ok(later.run_at >= before + 3_600_000 - 5_000, `--delay 1h: run_at ${new Date(later.run_at).toISOString()}`);
  });

  test('enqueue: bad JSON or an unregistered worker fails with the registered names; nothing is enqueued', async () => {
    const [badJson, unknown, wrongCase] = await Promise.all([
      jobs('enqueue', 'EmailWorker', '--args', '{to: ada}'),
      jobs('enqueue', 'SendInvoice', '--args', '{}'),
      jobs('enqueue', 'emailworker'),
    ]);
    failsClearly(badJson, /--args.*Expected JSON/, 'bad JSON');
    failsClearly(
      unknown,
      /No worker is registered under the name 'SendInvoice'.*Registered workers: DownloadWorker, EmailWorker, InvoiceWorker, ReportWorker/,
      'unknown worker',
    );
    failsClearly(wrongCase, /did you mean EmailWorker\?/, 'a name in the wrong case');
    assert.equal(await backend.list({}), []);
  });

  test("enqueue --key and --priority: a second enqueue with the key prints the queued job's id and adds nothing", async () => {
    const first = await jobs(
      'enqueue',
      'DownloadWorker',
      '--args',
      '{"url":"a"}',
      '--key',
      'nightly',
      '--priority',
      '7',
    );
    succeeds(first, 'enqueue --key');
    const id = first.stdout.trim();
    const second = await jobs('enqueue', 'DownloadWorker', '--args', '{"url":"b"}', '--key', 'nightly');
    succeeds(second, 'enqueue --key again');
    assert.is(second.stdout.trim(), id, 'the existing id');
    assert.match(second.stderr, 'nothing was added');
    const stored = await backend.get(id);
    assert.equal([stored?.key, stored?.priority, stored?.task_data], ['nightly', 7, { url: 'a' }]);
    // The worker's own priority() and uniqueKey(args) apply when the flags are left out.
    const invoice = await jobs('enqueue', 'InvoiceWorker', '--args', '{"amount":12}');
    succeeds(invoice, 'enqueue InvoiceWorker');
    const record = await backend.get(invoice.stdout.trim());
    assert.equal([record?.priority, record?.key], [5, 'amount-12']);
    assert.is((await backend.list({})).length, 2);
  });

  test("enqueue refuses args that are not a JSON object, or that fail the worker's argsSchema, with the issues", async () => {
    const [list, nothing, invoice, key, priority] = await Promise.all([
      jobs('enqueue', 'DownloadWorker', '--args', '["foo"]'),
      jobs('enqueue', 'DownloadWorker', '--args', 'null'),
      jobs('enqueue', 'InvoiceWorker', '--args', '{"amount":-3}'),
      jobs('enqueue', 'DownloadWorker', '--key', ''),
      jobs('enqueue', 'DownloadWorker', '--priority', '1.5'),
    ]);
    failsClearly(list, /--args must be a JSON object such as .*found \["foo"\]/, 'a list');
    failsClearly(nothing, /--args must be a JSON object.*found null/, 'null');
    for (const json of ['false', '0', '""']) {
      failsClearly(await jobs('enqueue', 'DownloadWorker', '--args', json), /--args must be a JSON object/, json);
    }
    failsClearly(
      invoice,
      /InvoiceWorker: the args do not match its argsSchema: amount: must be a whole number > 0/,
      'schema',
    );
    failsClearly(key, /cannot enqueue: key: expected a non-empty string/, 'empty key');
    failsClearly(priority, /--priority.*Expected a whole number from -32768 to 32767/, 'fractional priority');
    assert.equal(await backend.list({}), []);
  });

  test('show prints a job whole, its error with the stack; an unknown id says so', async () => {
    const [id] = await seed(backend, [
      { name: 'DownloadWorker', args: { url: 'x' }, status: 'failed', error: 'Error: 404\n    at fetch (a.js:1:1)' },
    ]);
    const [shown, missing] = await Promise.all([jobs('show', id), jobs('show', '01JNOSUCHJOB0000000000000')]);
    succeeds(shown, 'show');
    for (const line of [
      `id:           ${id}`,
      'name:         DownloadWorker',
      'status:       failed',
      'args:         {"url":"x"}',
      '  Error: 404',
      '      at fetch (a.js:1:1)',
    ]) {
      assert.match(shown.stdout, line);
    }
    failsClearly(missing, /No job with id 01JNOSUCHJOB0000000000000 in the queue/, 'unknown id');
  });

  test('retry: failed jobs back to queued (cancelled with --cancelled), by id or name; bad ids change nothing', async () => {
    const [failedA, failedB, cancelled, done] = await seed(backend, [
      { name: 'DownloadWorker', args: { url: 'a' }, status: 'failed', error: 'Error: a' },
      { name: 'EmailWorker', args: { to: 'b' }, tags: ['email'], status: 'failed', error: 'Error: b' },
      { name: 'ReportWorker', args: { period: 'c' }, tags: ['report'], status: 'cancelled' },
      { name: 'DownloadWorker', args: { url: 'd' }, status: 'completed' },
    ]);
    const [unknown, notFailed] = await Promise.all([
      jobs('retry', '--id', failedA, '01JNOSUCHJOB0000000000000'),
      jobs('retry', '--id', done),
    ]);
    failsClearly(
      unknown,
      /Cannot retry: no job has the id 01JNOSUCHJOB0000000000000\. Nothing was changed\./,
      'unknown id',
    );
    failsClearly(notFailed, /job .* \(DownloadWorker\) is completed; only failed jobs can be retried/, 'completed job');
    assert.is((await backend.get(failedA))?.status, 'failed', 'nothing changed');

    const byName = await jobs('retry', '--name', 'EmailWorker');
    succeeds(byName, 'retry --name');
    assert.match(byName.stdout, 'Retried 1 job (failed EmailWorker)');
    const rest = await jobs('retry', '--cancelled');
    succeeds(rest, 'retry --cancelled');
    assert.match(rest.stdout, 'Retried 2 jobs (failed or cancelled)');
    for (const id of [failedA, failedB, cancelled]) {
      const job = await backend.get(id);
      assert.equal([job?.status, job?.attempts], ['queued', 0], id);
    }
    assert.is((await backend.get(failedA))?.last_error, 'Error: a', 'the last error is kept');
    assert.is((await backend.get(done))?.status, 'completed');
  });

  test('import --keep-status restores a dump as it was; import checks args against argsSchema', async () => {
    const ids = await seed(backend, [
      { name: 'DownloadWorker', args: { url: 'q' } },
      { name: 'DownloadWorker', args: { url: 'f' }, status: 'failed', error: 'Error: f' },
      { name: 'EmailWorker', args: { to: 'c' }, tags: ['email'], status: 'completed' },
    ]);
    const dumped = await jobs('dump');
    succeeds(dumped, 'dump');
    const file = dumpPath(dumped.stdout);
    const before = await jobsById(backend);
    await backend.remove({ statuses: ['queued', 'completed', 'failed', 'cancelled'] });
    const restored = await jobs('import', '--file', file, '--keep-status');
    succeeds(restored, 'import --keep-status');
    assert.match(restored.stdout, 'Imported 3 jobs from');
    assert.match(restored.stdout, 'with their status');
    const after = [...(await jobsById(backend)).values()];
    const shape = (job: {
      name: string;
      status: string;
      attempts: number;
      last_error: string | null;
      task_data: unknown;
    }) => `${job.name} ${job.status} ${job.attempts} ${job.last_error} ${JSON.stringify(job.task_data)}`;
    assert.equal(after.map(shape).sort(), ids.map((id) => shape(before.get(id)!)).sort());

    writeFileSync(path.join(app, 'bad-invoice.yaml'), '- name: InvoiceWorker\n  task_data: { amount: 0 }\n');
    const refused = await jobs('import', '--file', 'bad-invoice.yaml');
    failsClearly(
      refused,
      /entry 1 \(line 1\): InvoiceWorker: the args do not match its argsSchema: amount: must be a whole number > 0/,
      'schema',
    );
    assert.is((await backend.list({})).length, 3, 'nothing imported');
  });

  test('enqueue refuses a run time past year 9999, naming the limit; list and dump keep working', async () => {
    await seed(backend, [{ name: 'DownloadWorker', args: { url: 'kept' } }]);
    const [far, farther] = await Promise.all([
      jobs('enqueue', 'DownloadWorker', '--delay', '9000000000000000'),
      jobs('enqueue', 'DownloadWorker', '--delay', '100000000000000000000'),
    ]);
    for (const [result, what] of [
      [far, '--delay 9e15'],
      [farther, '--delay 1e20'],
    ] as const) {
      failsClearly(
        result,
        /DownloadWorker: cannot enqueue: run_at: .* is after 9999-12-31T23:59:59\.999Z, the latest time the stores and the dump format hold; use a shorter delay.*Nothing was enqueued\./,
        what,
      );
    }
    assert.is((await backend.list({})).length, 1, 'nothing was enqueued');
    const [list, dump] = await Promise.all([jobs('list'), jobs('dump', '--folder', 'after-far')]);
    succeeds(list, 'list');
    succeeds(dump, 'dump');
  });

  test('enqueue refuses args nested too deeply or over queue.max_args_bytes, saying the limit; the queue stays usable', async () => {
    await seed(backend, [{ name: 'DownloadWorker', args: { url: 'kept' } }]);
    const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    const [deep, deeper, big] = await Promise.all([
      jobs('enqueue', 'DownloadWorker', '--args', nested(3_000)),
      jobs('enqueue', 'DownloadWorker', '--args', nested(10_000)),
      runLoco(app, ['jobs', 'enqueue', 'DownloadWorker', '--args', `{"url":"${'x'.repeat(2000)}"}`, '-e', 'test'], {
        ...env,
        LOCO_TEST_MAX_ARGS_BYTES: '1KiB',
      }),
    ]);
    for (const [result, what] of [
      [deep, '3,000 levels'],
      [deeper, '10,000 levels'],
    ] as const) {
      failsClearly(
        result,
        /DownloadWorker: cannot enqueue: the args are nested more than 100 levels deep .*Nothing was enqueued\./,
        what,
      );
    }
    failsClearly(
      big,
      /DownloadWorker: cannot enqueue: the args are 2010 bytes \(2\.0 KiB\) as JSON, over the limit of 1 KiB \(queue\.max_args_bytes\)/,
      'over queue.max_args_bytes',
    );
    assert.is((await backend.list({})).length, 1, 'nothing was enqueued');
    const [ok, list, dump] = await Promise.all([
      jobs('enqueue', 'DownloadWorker', '--args', nested(99)),
      jobs('list'),
      jobs('dump', '--folder', 'after-deep'),
    ]);
    succeeds(ok, '99 levels under {"a": ...}');
    succeeds(list, 'list');
    succeeds(dump, 'dump');
  });

  test('cancel: queued jobs of that name become cancelled, others are left alone', async () => {
    const ids = await seed(backend, [
      { name: 'DownloadWorker', args: { url: 'a' } },
      { name: 'DownloadWorker', args: { url: 'b' } },
      { name: 'DownloadWorker', args: { url: 'c' }, status: 'processing' },
      { name: 'DownloadWorker', args: { url: 'd' }, status: 'failed' },
      { name: 'EmailWorker', args: { to: 'x' }, tags: ['email'] },
    ]);
    const result = await jobs('cancel', '--name', 'DownloadWorker');
    succeeds(result, 'cancel');
    assert.match(result.stdout, 'Cancelled 2 queued jobs named DownloadWorker.');
    const stored = await jobsById(backend);
    assert.equal(
      ids.map((id) => stored.get(id)!.status),
      ['cancelled', 'cancelled', 'processing', 'failed', 'queued'],
    );
  });

  test('tidy: deletes completed and cancelled jobs only', async () => {
    const ids = await seed(backend, [
      { name: 'DownloadWorker', status: 'completed' },
      { name: 'EmailWorker', status: 'completed' },
      { name: 'DownloadWorker', status: 'cancelled' },
      { name: 'DownloadWorker', status: 'failed' },
      { name: 'DownloadWorker', status: 'processing' },
      { name: 'ReportWorker' },
    ]);
    const result = await jobs('tidy');
    succeeds(result, 'tidy');
    assert.match(result.stdout, 'Deleted 3 jobs (completed or cancelled).');
    assert.equal([...(await jobsById(backend)).keys()].sort(), ids.slice(3).sort());
    // Then the store gives the space back its own way, and says how.
    const expected = {
      Sqlite: /Store size: [\d.]+ MiB before, [\d.]+ MiB after\. Free pages were given back/,
      Postgres: /Store size: [\d.]+ MiB before, [\d.]+ MiB after\. Postgres's autovacuum/,
      Redis: /Redis frees the memory of deleted jobs at once/,
    }[store.kind];
    assert.match(result.stdout, expected);
    const thorough = await jobs('tidy', '--vacuum');
    succeeds(thorough, 'tidy --vacuum');
    assert.match(
      thorough.stdout,
      { Sqlite: 'VACUUM rebuilt the file', Postgres: 'VACUUM (ANALYZE) ran', Redis: 'Redis frees' }[store.kind],
    );
  });

  test('purge and requeue count age from the last update (not creation); purge keeps processing jobs', async () => {
    const started = Date.now();
    const oldIds = await seed(backend, [
      { name: 'DownloadWorker', args: { n: 1 } },
      { name: 'DownloadWorker', args: { n: 2 }, status: 'completed' },
      { name: 'DownloadWorker', args: { n: 3 }, status: 'failed' },
      { name: 'DownloadWorker', args: { n: 4 }, status: 'cancelled' },
      { name: 'DownloadWorker', args: { n: 5 }, status: 'processing' },
    ]);
    // Created with the old ones, updated after the pause: young by its last update.
    const [touchedId] = await seed(backend, [{ name: 'ReportWorker', args: { n: 6 } }]);

    // While the old jobs age: nothing is 90 days (purge's default) or 10 minutes old.
    const [byDefault, spared] = await Promise.all([jobs('purge'), jobs('requeue', '--from-age', '10')]);
    succeeds(byDefault, 'purge');
    assert.match(
      byDefault.stdout,
      'Deleted 0 jobs (queued, completed, failed or cancelled) last updated more than 90 days ago.',
    );
    succeeds(spared, 'requeue --from-age 10');
    assert.match(spared.stdout, 'Requeued 0 processing jobs not updated for 10 minutes.');
    assert.is((await backend.list({})).length, 6);

    await sleep(Math.max(0, started + 13_000 - Date.now()));
    const [claimed] = await backend.claim({
      names: ['ReportWorker'],
      tags: [],
      anyTag: true,
      limit: 1,
      leaseMs: 600_000,
      now: Date.now() + 1,
    });
    await backend.finish([completedOutcome(claimed)]);
    const youngIds = await seed(backend, [
      { name: 'EmailWorker', args: { n: 7 }, status: 'failed' },
      { name: 'EmailWorker', args: { n: 8 }, status: 'processing' },
    ]);

    // 10 s, in days and in minutes: the old jobs are 13 s and a process start old, the young ones
    // a process start (two at once, which may take several seconds on a loaded machine).
    const [purged, requeued] = await Promise.all([
      jobs('purge', '--max-age', String(10 / 86_400)),
      jobs('requeue', '--from-age', String(10 / 60)),
    ]);
    succeeds(purged, 'purge');
    succeeds(requeued, 'requeue');
    assert.match(purged.stdout, /Deleted 4 jobs \(queued, completed, failed or cancelled\) last updated more than/);
    assert.match(requeued.stdout, /Requeued 1 processing job not updated for/);
    const stored = await jobsById(backend);
    assert.equal(
      [...stored.keys()].sort(),
      [oldIds[4], touchedId, ...youngIds].sort(),
      'old jobs purged except the processing one',
    );
    assert.is(stored.get(oldIds[4])!.status, 'queued', 'the old processing job was requeued');
    assert.is(stored.get(youngIds[1])!.status, 'processing', 'the young processing job was not');
    assert.is(stored.get(touchedId)!.status, 'completed');
  });

  test('purge --status limits what goes', async () => {
    await seed(backend, [
      { name: 'DownloadWorker' },
      { name: 'DownloadWorker', status: 'processing' },
      { name: 'DownloadWorker', status: 'completed' },
      { name: 'DownloadWorker', status: 'failed' },
      { name: 'EmailWorker', status: 'failed' },
      { name: 'DownloadWorker', status: 'cancelled' },
    ]);
    const result = await jobs('purge', '--max-age', '0', '--status', 'failed,cancelled');
    succeeds(result, 'purge --status');
    assert.match(result.stdout, 'Deleted 3 jobs (failed or cancelled) last updated more than 0 days ago.');
    assert.equal(await countByStatus(backend), { completed: 1, processing: 1, queued: 1 });
  });

  test('purge --dump writes the jobs to a file first, then deletes exactly those', async () => {
    const ids = await seed(backend, [
      { name: 'DownloadWorker', args: { url: 'a' }, status: 'failed', error: 'Error: 404\n    at fetch' },
      { name: 'ReportWorker', args: { period: '2024-11' }, tags: ['report'], status: 'failed' },
      { name: 'DownloadWorker', args: { url: 'b' } },
    ]);
    const result = await jobs('purge', '--max-age', '0', '--status', 'failed', '--dump', 'backup');
    succeeds(result, 'purge --dump');
    const file = dumpPath(result.stdout);
    assert.is(path.dirname(file), path.join(app, 'backup'));
    assert.match(path.basename(file), /^loco-dump-jobs-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}(-\d+)?\.yaml$/);
    assert.match(result.stdout, 'Deleted 2 jobs (failed)');
    const dumped = parse(readFileSync(file, 'utf8'));
    assert.equal(dumped.map((job: { id: string }) => job.id).sort(), ids.slice(0, 2).sort());
    assert.equal(dumped.find((job: { id: string }) => job.id === ids[0]).last_error, 'Error: 404\n    at fetch');
    assert.equal([...(await jobsById(backend)).keys()], [ids[2]]);
  });

  test('purge --dump into a folder that cannot be made deletes nothing', async () => {
    await seed(backend, [{ name: 'DownloadWorker', status: 'failed' }, { name: 'DownloadWorker' }]);
    writeFileSync(path.join(app, 'a-file'), 'not a folder');
    const [under, onto] = await Promise.all([
      jobs('purge', '--max-age', '0', '--dump', 'a-file/backup'),
      jobs('purge', '--max-age', '0', '--dump', 'a-file'),
    ]);
    failsClearly(
      under,
      /Cannot use a-file\/backup as the dump folder: part of the path is a file.*Nothing was deleted\./,
      'parent is a file',
    );
    failsClearly(onto, /Cannot use a-file as the dump folder.*Nothing was deleted\./, 'folder path is a file');
    assert.is((await backend.list({})).length, 2);
  });

  test('dump and purge --dump refuse at once a folder the system will not create (/proc/x/y)', async () => {
    await seed(backend, [{ name: 'DownloadWorker', status: 'failed' }]);
    const started = Date.now();
    const [dumped, purged] = await Promise.all([
      jobs('dump', '--folder', '/proc/x/y'),
      jobs('purge', '--max-age', '0', '--dump', '/proc/x/y'),
    ]);
    assert.ok(Date.now() - started < 20_000, `refused in ${Date.now() - started} ms, not after spinning`);
    failsClearly(
      dumped,
      /Cannot use \/proc\/x\/y as the dump folder: the system does not allow creating a folder there\./,
      'dump',
    );
    failsClearly(purged, /Cannot use \/proc\/x\/y as the dump folder: .*Nothing was deleted\./, 'purge --dump');
    assert.is((await backend.list({})).length, 1);
  });

  test("dump: Loco's fields first, then ours; RFC 3339 UTC times; --status and --folder", async () => {
    const ids = await seed(backend, [
      {
        name: 'EmailWorker',
        args: { to: 'ada@example.com', nested: { list: [1, 'two', null], yes: true } },
        tags: ['email'],
        queue: 'mailers',
      },
      { name: 'ReportWorker', args: { period: '2024-11' }, tags: ['report', 'pdf'], interval: '1h' },
      { name: 'DownloadWorker', args: { url: 'x' }, status: 'failed', error: 'Error: boom' },
      { name: 'DownloadWorker', args: { url: 'y' }, status: 'cancelled' },
    ]);
    const [all, some] = await Promise.all([
      jobs('dump'),
      jobs('dump', '--status', 'failed,cancelled', '--folder', 'out/dumps'),
    ]);
    succeeds(all, 'dump');
    succeeds(some, 'dump --status');
    const allFile = dumpPath(all.stdout);
    assert.is(path.dirname(allFile), app, 'default folder: the current one');
    assert.is(path.dirname(dumpPath(some.stdout)), path.join(app, 'out/dumps'));
    assert.match(all.stdout, 'Wrote 4 jobs to');

    const entries = parse(readFileSync(allFile, 'utf8')) as Array<Record<string, unknown>>;
    const stored = await jobsById(backend);
    assert.equal(entries.map((entry) => entry.id).sort(), [...ids].sort());
    for (const entry of entries) {
      const job = stored.get(entry.id as string)!;
      assert.equal(Object.keys(entry), [...LOCO_FIELDS, ...OUR_FIELDS], 'field names and order');
      for (const field of ['run_at', 'created_at', 'updated_at'] as const) {
        assert.match(entry[field] as string, RFC3339_UTC);
        assert.is(Date.parse(entry[field] as string), job[field], field);
      }
      assert.equal(entry.task_data, job.task_data);
      assert.equal(entry.tags, job.tags);
      assert.equal(
        [entry.name, entry.status, entry.interval, entry.queue, entry.attempts, entry.max_attempts, entry.last_error],
        [job.name, job.status, job.interval, job.queue, job.attempts, job.max_attempts, job.last_error],
      );
    }
    assert.is(entries.find((entry) => entry.name === 'ReportWorker')!.interval, 3_600_000);
    const someEntries = parse(readFileSync(dumpPath(some.stdout), 'utf8')) as Array<{ status: string }>;
    assert.equal(someEntries.map((entry) => entry.status).sort(), ['cancelled', 'failed']);
  });

  test('dump -> purge -> import restores the same names, args, tags, queues and intervals as new queued jobs', async () => {
    const ids = await seed(backend, [
      {
        name: 'EmailWorker',
        args: { to: 'ada@example.com', cc: ['b@example.com'] },
        tags: ['email'],
        queue: 'mailers',
      },
      { name: 'EmailWorker', args: { to: 'grace@example.com' }, tags: ['email', 'Urgent'], status: 'failed' },
      {
        name: 'ReportWorker',
        args: { period: '2024-11', total: 12.5, note: 'line one\nline two: "quoted"' },
        tags: ['report', 'pdf'],
        interval: '1d',
        status: 'completed',
      },
      {
        name: 'DownloadWorker',
        args: { url: 'https://example.com/?a=1&b=2', size: null, ok: false },
        status: 'cancelled',
      },
      { name: 'DownloadWorker', args: { url: '123', id: '01', empty: {} }, status: 'processing' },
    ]);
    const before = (await backend.list({})).map(portable).sort();

    const dumped = await jobs('dump', '--folder', 'round-trip');
    succeeds(dumped, 'dump');
    const purged = await jobs('purge', '--max-age', '0', '--status', 'queued,processing,completed,failed,cancelled');
    succeeds(purged, 'purge');
    assert.equal(await backend.list({}), [], 'purged');
    const imported = await jobs('import', '--file', path.relative(app, dumpPath(dumped.stdout)));
    succeeds(imported, 'import');
    assert.match(imported.stdout, /Imported 5 jobs from round-trip\/loco-dump-jobs-.*\.yaml as new queued jobs\./);

    const after = await backend.list({});
    assert.equal(after.map(portable).sort(), before, 'names, args, tags, queues, intervals and attempts allowed');
    assert.ok(
      after.every((job) => job.status === 'queued' && job.attempts === 0 && job.last_error === null),
      'all new and queued',
    );
    assert.ok(
      after.every((job) => !ids.includes(job.id) && ULID.test(job.id)),
      'new ids',
    );
  });

  test("imports Loco's dump format", async () => {
    const result = await jobs('import', '--file', path.join(DUMPS, 'loco-dump.yaml'));
    succeeds(result, 'import');
    assert.match(result.stdout, 'Imported 4 jobs');
    const now = Date.now();
    const jobsByArgs = (await backend.list({})).map((job) => ({
      name: job.name,
      args: job.task_data,
      tags: job.tags,
      interval: job.interval,
      queue: job.queue,
      status: job.status,
      due: job.run_at <= now,
    }));
    assert.equal(jobsByArgs, [
      {
        name: 'DownloadWorker',
        args: { url: 'https://example.com/invoices/INV-2024-01.pdf', user_id: 133 },
        tags: [],
        interval: null,
        queue: null,
        status: 'queued',
        due: true,
      },
      {
        name: 'ReportWorker',
        args: { period: '2024-11', recipients: ['ops@example.com', 'finance@example.com'] },
        tags: ['report'],
        interval: 86_400_000,
        queue: null,
        status: 'queued',
        due: true,
      },
      {
        name: 'EmailWorker',
        args: { error: 'smtp: connection timed out', subject: 'Your invoice', to: 'user14@example.com' },
        tags: ['email'],
        interval: null,
        queue: 'mailers',
        status: 'queued',
        due: true,
      },
      {
        name: 'EmailWorker',
        args: { subject: 'Happy new year', to: 'user15@example.com' },
        tags: [],
        interval: null,
        queue: 'mailers',
        status: 'queued',
        due: false,
      },
    ]);
    const delayed = (await backend.list({})).find((job) => !job.tags.length && job.name === 'EmailWorker')!;
    assert.is(delayed.run_at, Date.parse('2099-01-01T00:00:00Z'), 'a run_at still ahead is kept');
  });

  test('import refuses a corrupt, partly wrong, empty or missing file with a clear message, and imports nothing', async () => {
    const ids = await seed(backend, [{ name: 'DownloadWorker', args: { url: 'kept' } }]);
    const [corrupt, oneBad, illTyped, empty, missing] = await Promise.all(
      ['corrupt.yaml', 'one-bad-entry.yaml', 'ill-typed.yaml', 'empty.yaml', 'no-such-dump.yaml'].map((file) =>
        jobs('import', '--file', path.join(DUMPS, file)),
      ),
    );
    failsClearly(corrupt, /corrupt\.yaml: it is not valid YAML: .*line 4.*Nothing was imported\./, 'corrupt YAML');
    failsClearly(
      oneBad,
      /one-bad-entry\.yaml: 1 of 3 entries has problems, so nothing was imported:\n {2}entry 2 \(line 12, id 01JDM0X8EVAM823JZBGKYNBA91, name EmailWorker\): unknown field 'tagz'/,
      'one bad entry',
    );
    failsClearly(illTyped, /4 of 4 entries have problems/, 'ill-typed entries');
    for (const expected of [
      /entry 1 \(line 2, id 01JDM0X8EVAM823JZBGKYNBA80, name SendInvoice\): no worker is registered under the name 'SendInvoice'/,
      /entry 2 \(line 6, id 01JDM0X8EVAM823JZBGKYNBA81, name DownloadWorker\): status: expected one of queued, .*found the string "done"; run_at: expected an RFC 3339 time.*; interval: expected .*found number -5; tags: expected a list of tags/,
      /entry 3 \(line 14, name EmailWorker\): task_data is missing/,
      /entry 4 \(line 15\): expected a mapping of job fields/,
      /Registered workers: DownloadWorker, EmailWorker, InvoiceWorker, ReportWorker/,
    ]) {
      assert.match(illTyped.stderr, expected);
    }
    failsClearly(empty, /empty\.yaml: the file is empty/, 'empty file');
    failsClearly(missing, /no-such-dump\.yaml: there is no such file/, 'missing file');
    assert.equal([...(await jobsById(backend)).keys()], ids, 'the queue is unchanged');
  });

  test('import refuses entries no store could hold (a NUL in a tag, max_attempts 2^53-1, a huge interval), naming each', async () => {
    const ids = await seed(backend, [{ name: 'DownloadWorker', args: { url: 'kept' } }]);
    writeFileSync(
      path.join(app, 'unholdable.yaml'),
      [
        '- name: DownloadWorker',
        '  task_data: { url: a }',
        '  tags: ["ok", "bad\\0tag"]',
        '- name: DownloadWorker',
        '  task_data: { url: b }',
        '  max_attempts: 9007199254740991',
        '- name: DownloadWorker',
        '  task_data: { url: c }',
        '  interval: 9007199254740991',
        '- name: DownloadWorker',
        '  task_data: { url: d }',
        '  queue: "q\\0"',
        '',
      ].join('\n'),
    );
    const result = await jobs('import', '--file', 'unholdable.yaml');
    failsClearly(result, /unholdable\.yaml: 4 of 4 entries have problems, so nothing was imported:/, 'import');
    for (const expected of [
      /entry 1 \(line 1, name DownloadWorker\): tags: tag 2: "bad\\u0000tag" contains a NUL character/,
      /entry 2 \(line 4, name DownloadWorker\): max_attempts: expected a whole number from 1 to 2147483647/,
      /entry 3 \(line 7, name DownloadWorker\): interval: expected more than 0 and at most 3153600000000 ms/,
      /entry 4 \(line 10, name DownloadWorker\): queue: "q\\u0000" contains a NUL character/,
    ]) {
      assert.match(result.stderr, expected);
    }
    assert.equal([...(await jobsById(backend)).keys()], ids, 'the queue is unchanged');
  });

  test('import refuses task_data nested too deeply or over queue.max_args_bytes, naming each entry', async () => {
    const ids = await seed(backend, [{ name: 'DownloadWorker', args: { url: 'kept' } }]);
    const deep = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;
    writeFileSync(
      path.join(app, 'deep.yaml'),
      [
        '- name: DownloadWorker',
        `  task_data: ${deep(101)}`,
        '- name: DownloadWorker',
        `  task_data: { url: "${'x'.repeat(1024 * 1024)}" }`,
        '- name: DownloadWorker',
        `  task_data: ${deep(100)}`,
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(app, 'deeper.yaml'), `- name: DownloadWorker\n  task_data: ${deep(20_000)}\n`);
    const [result, deeper] = await Promise.all([
      jobs('import', '--file', 'deep.yaml'),
      jobs('import', '--file', 'deeper.yaml'),
    ]);
    failsClearly(result, /deep\.yaml: 2 of 3 entries have problems, so nothing was imported:/, 'import');
    assert.match(
      result.stderr,
      /entry 1 \(line 1, name DownloadWorker\): task_data is nested more than 100 levels deep/,
    );
    assert.match(
      result.stderr,
      /entry 2 \(line 3, name DownloadWorker\): task_data: the args are 1048586 bytes \(1\.0 MiB\) as JSON, over the limit of 1 MiB \(queue\.max_args_bytes\)/,
    );
    failsClearly(deeper, /Cannot import deeper\.yaml: it is nested too deeply to read/, '20,000 levels');
    assert.equal([...(await jobsById(backend)).keys()], ids, 'the queue is unchanged');
  });

  test('import reads only a regular file, up to --max-size (64 MiB by default): never /dev/zero, a pipe or a folder', async () => {
    const ids = await seed(backend, [{ name: 'DownloadWorker', args: { url: 'kept' } }]);
    symlinkSync('/dev/zero', path.join(app, 'zero.yaml'));
    execFileSync('mkfifo', [path.join(app, 'pipe.yaml')]);
    mkdirSync(path.join(app, 'folder.yaml'));
    const dump = readFileSync(path.join(DUMPS, 'loco-dump.yaml'), 'utf8');
    writeFileSync(path.join(app, 'big.yaml'), `${dump}\n# ${'x'.repeat(2000)}\n`);
    const started = Date.now();
    const [zero, pipe, folder, big, tooSmall] = await Promise.all([
      jobs('import', '--file', 'zero.yaml'),
      jobs('import', '--file', 'pipe.yaml'),
      jobs('import', '--file', 'folder.yaml'),
      jobs('import', '--file', 'big.yaml', '--max-size', '2KiB'),
      jobs('import', '--file', 'big.yaml', '--max-size', 'lots'),
    ]);
    assert.ok(Date.now() - started < 20_000, 'refused at once, not after reading or waiting');
    failsClearly(
      zero,
      /Cannot import zero\.yaml: it is a character device \(like \/dev\/zero\), not a regular file\..*Nothing was imported\./,
      'a link to /dev/zero',
    );
    failsClearly(pipe, /Cannot import pipe\.yaml: it is a named pipe \(FIFO\), not a regular file\./, 'a FIFO');
    failsClearly(folder, /Cannot import folder\.yaml: it is a folder, not a regular file\./, 'a folder');
    failsClearly(
      big,
      /Cannot import big\.yaml: it is \d+ bytes \(\d\.\d KiB\), over the limit of 2 KiB\. .*raise the limit with --max-size/,
      'over --max-size',
    );
    failsClearly(tooSmall, /--max-size.*Expected a number of bytes or a size such as/, 'a bad --max-size');
    assert.equal([...(await jobsById(backend)).keys()], ids, 'the queue is unchanged');

    succeeds(await jobs('import', '--file', 'big.yaml', '--max-size', '1MiB'), 'a raised --max-size');
    assert.is((await backend.list({})).length, 5, 'imported with the limit raised');
    for (const file of ['zero.yaml', 'pipe.yaml', 'folder.yaml', 'big.yaml']) {
      rmSync(path.join(app, file), { recursive: true });
    }
  });

  test('requeue: by default every processing job goes back to queued', async () => {
    const ids = await seed(backend, [
      { name: 'DownloadWorker', status: 'processing' },
      { name: 'EmailWorker', status: 'processing' },
      { name: 'DownloadWorker', status: 'completed' },
      { name: 'DownloadWorker' },
    ]);
    const all = await jobs('requeue');
    succeeds(all, 'requeue');
    assert.match(all.stdout, 'Requeued 2 processing jobs.');
    const stored = await jobsById(backend);
    assert.equal(
      ids.map((id) => stored.get(id)!.status),
      ['queued', 'queued', 'completed', 'queued'],
    );
  });

  test('list shows the newest jobs as a table, filtered and limited; stats counts by name and status', async () => {
    const ids = await seed(backend, [
      {
        name: 'DownloadWorker',
        args: { url: 'a' },
        status: 'failed',
        error: 'Error: 404 Not Found\n    at fetch (download.ts:3:9)',
      },
      { name: 'EmailWorker', args: { to: 'x' }, tags: ['email'], status: 'completed' },
      { name: 'ReportWorker', args: { period: 'p' }, tags: ['report', 'pdf'] },
      { name: 'DownloadWorker', args: { url: 'b' } },
    ]);
    const [list, filtered, limited, stats] = await Promise.all([
      jobs('list'),
      jobs('list', '--status', 'failed,queued', '--name', 'DownloadWorker'),
      jobs('list', '--limit', '2'),
      jobs('stats'),
    ]);
    for (const [result, what] of [
      [list, 'list'],
      [filtered, 'list --status --name'],
      [limited, 'list --limit'],
      [stats, 'stats'],
    ] as const) {
      succeeds(result, what);
    }
    const lines = list.stdout.split('\n');
    assert.match(lines[0], /^id\s+name\s+status\s+attempts\s+run_at\s+updated_at\s+tags\s+last error$/);
    const stored = await jobsById(backend);
    const newestFirst = [...stored.values()].sort((a, b) => (a.id < b.id ? 1 : -1)).map((job) => job.id);
    assert.equal(
      lines.slice(1, 5).map((line) => line.split(/\s+/)[0]),
      newestFirst,
    );
    const failedRow = lines.find((line) => line.startsWith(ids[0]))!;
    assert.match(
      failedRow,
      /DownloadWorker\s+failed\s+1\/3\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z\s+-\s+Error: 404 Not Found$/,
    );
    assert.not.match(list.stdout, 'at fetch', 'only the first line of the error');
    assert.match(lines.find((line) => line.startsWith(ids[2]))!, /ReportWorker\s+queued\s+0\/3\s+.*report,pdf/);
    assert.match(list.stdout, '4 jobs, newest first.');

    const filteredIds = filtered.stdout
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s+/)[0])
      .filter((id) => ULID.test(id));
    assert.equal(filteredIds, [ids[3], ids[0]]);
    assert.match(filtered.stdout, '2 jobs with status failed or queued and name DownloadWorker, newest first.');
    assert.match(limited.stdout, 'The newest 2 of 4 jobs, newest first. Use --limit to see more.');

    const rows = stats.stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/));
    assert.equal(rows, [
      ['name', 'queued', 'processing', 'completed', 'failed', 'cancelled', 'total'],
      ['DownloadWorker', '1', '0', '0', '1', '0', '2'],
      ['EmailWorker', '0', '0', '1', '0', '0', '1'],
      ['ReportWorker', '1', '0', '0', '0', '0', '1'],
      ['total', '2', '0', '1', '1', '0', '4'],
    ]);
  });

  test('pause and resume a worker or a --queue: the lines printed, and stats and list show what is paused', async () => {
    await seed(backend, [
      { name: 'DownloadWorker', args: { url: 'a' } },
      { name: 'EmailWorker', args: { to: 'x' }, tags: ['email'], queue: 'mailers' },
    ]);
    const [worker, mailers, unknown] = await Promise.all([
      jobs('pause', 'DownloadWorker'),
      jobs('pause', '--queue', 'mailers'),
      jobs('pause', 'SendInvoice'),
    ]);
    succeeds(worker, 'pause DownloadWorker');
    assert.is(
      worker.stdout.trim(),
      'Paused worker DownloadWorker: no process claims its jobs until loco jobs resume DownloadWorker; running jobs finish, enqueues go on.',
    );
    succeeds(mailers, 'pause --queue mailers');
    assert.is(
      mailers.stdout.trim(),
      'Paused queue mailers: no process claims its jobs until loco jobs resume --queue mailers; running jobs finish, enqueues go on.',
    );
    failsClearly(
      unknown,
      /Cannot pause: No worker is registered under the name 'SendInvoice'\. Registered workers: DownloadWorker, EmailWorker, InvoiceWorker, ReportWorker\..*\(Use --queue to pause a named queue\.\)/,
      'pause an unknown worker',
    );
    assert.equal(await backend.paused(), [
      { kind: 'queue', name: 'mailers' },
      { kind: 'worker', name: 'DownloadWorker' },
    ]);
    const again = await jobs('pause', 'DownloadWorker');
    succeeds(again, 'pause DownloadWorker again');
    assert.is(again.stdout.trim(), 'worker DownloadWorker was paused already.');

    const note = 'Paused (loco jobs resume ... lets them go on): queue mailers, worker DownloadWorker.';
    const [stats, list] = await Promise.all([jobs('stats'), jobs('list')]);
    succeeds(stats, 'stats while paused');
    succeeds(list, 'list while paused');
    assert.match(stats.stdout, /^DownloadWorker \(paused\)\s+1\s+0\s+0\s+0\s+0\s+1$/m, 'the paused worker is marked');
    assert.match(stats.stdout, /^EmailWorker\s+1\s+0\s+0\s+0\s+0\s+1$/m, 'a worker whose queue is paused is not');
    assert.is(stats.stdout.trim().split('\n').at(-1), note, 'stats ends with what is paused');
    assert.is(list.stdout.trim().split('\n').at(-1), note, 'list ends with what is paused');

    const [resumed, resumedQueue, notPaused] = await Promise.all([
      jobs('resume', 'DownloadWorker'),
      jobs('resume', '--queue', 'mailers'),
      jobs('resume', 'ReportWorker'),
    ]);
    succeeds(resumed, 'resume DownloadWorker');
    assert.is(resumed.stdout.trim(), 'Resumed worker DownloadWorker.');
    succeeds(resumedQueue, 'resume --queue mailers');
    assert.is(resumedQueue.stdout.trim(), 'Resumed queue mailers.');
    succeeds(notPaused, 'resume a worker that is not paused');
    assert.is(notPaused.stdout.trim(), 'worker ReportWorker was not paused.');
    assert.equal(await backend.paused(), []);
    const [statsAfter, listAfter] = await Promise.all([jobs('stats'), jobs('list')]);
    for (const result of [statsAfter, listAfter]) {
      succeeds(result, 'stats and list after resume');
      assert.not.match(result.stdout, /paused/i, 'nothing is shown as paused');
    }
    assert.match(statsAfter.stdout, /^DownloadWorker\s+1\s+0\s+0\s+0\s+0\s+1$/m);
  });

  test("a `loco start --worker` process leaves a paused worker's job queued and runs it once resumed", async () => {
    const [download, invoice] = await seed(backend, [
      { name: 'DownloadWorker', args: { url: 'held' } },
      { name: 'InvoiceWorker', args: { amount: 3 } },
    ]);
    succeeds(await jobs('pause', 'DownloadWorker'), 'pause DownloadWorker');
    const worker = startLoco(app, ['start', '--worker', '-e', 'test'], env);
    const statusOf = async (id: string) => (await backend.get(id))?.status;
    const waitUntil = async (what: string, done: () => Promise<boolean>) => {
      const deadline = Date.now() + 20_000;
      while (!(await done())) {
        if (Date.now() > deadline || worker.child.exitCode !== null) {
          assert.unreachable(`${what} within 20 s; worker output:\n${worker.output()}`);
        }
        await sleep(100);
      }
    };
    try {
      await waitUntil('the InvoiceWorker job completed', async () => (await statusOf(invoice)) === 'completed');
      // Two more polls (poll_interval_sec: 1) in which the paused worker's job could be claimed.
      await sleep(2_500);
      assert.is(await statusOf(download), 'queued', "the paused worker's job is not claimed");
      assert.not.match(worker.output(), 'downloading held');
      succeeds(await jobs('resume', 'DownloadWorker'), 'resume DownloadWorker');
      await waitUntil(
        'the resumed DownloadWorker job completed',
        async () => (await statusOf(download)) === 'completed',
      );
      assert.match(worker.output(), 'downloading held');
    } finally {
      worker.child.kill('SIGTERM');
      await exited(worker.child);
    }
  });

  test('without a durable queue each command says so, naming the config file and the fix, and exits 1', async () => {
    await seed(backend, [{ name: 'DownloadWorker' }]);
    const [foreground, unqueued, inProcess] = await Promise.all([
      runLoco(app, ['jobs', 'tidy', '-e', 'foreground'], env),
      runLoco(app, ['jobs', '--environment', 'unqueued', 'list'], env),
      runLoco(app, ['jobs', 'import', '--file', path.join(DUMPS, 'loco-dump.yaml'), '-e', 'async'], env),
    ]);
    failsClearly(
      foreground,
      /config\/foreground\.yaml: workers\.mode is ForegroundBlocking.*no job queue.*set workers\.mode: BackgroundQueue and a queue: section/,
      'ForegroundBlocking',
    );
    failsClearly(
      unqueued,
      /config\/unqueued\.yaml: queue\.kind: is missing: workers\.mode is BackgroundQueue, which stores jobs in a queue, so queue: needs kind/,
      'no queue: section',
    );
    failsClearly(inProcess, /config\/async\.yaml: workers\.mode is BackgroundAsync/, 'BackgroundAsync');
    assert.is((await backend.list({})).length, 1);
  });

  test('a queue.uri that cannot be taken exactly stops the command with one line naming it, never a stack', async () => {
    const uri = new URL(store.uri());
    const variant = (change: (url: URL) => void) => {
      const copy = new URL(uri);
      change(copy);
      return copy.toString();
    };
    writeFileSync(path.join(app, 'not-sqlite.txt'), `${'This is a text file, not a SQLite database. '.repeat(4)}\n`);
    mkdirSync(path.join(app, 'a-folder.sqlite'), { recursive: true });
    const byKind: Record<string, Array<[string, RegExp]>> = {
      Sqlite: [
        ['sqlite://%zz', /SQLite URI 'sqlite:\/\/%zz': the path has a % that is not followed by two hex digits/],
        [
          'sqlite://not-sqlite.txt?mode=rwc',
          /Cannot open the SQLite queue sqlite:\/\/.*not-sqlite\.txt: file is not a database\. The file is not a SQLite database/,
        ],
        [
          'sqlite://a-folder.sqlite?mode=rwc',
          /Cannot open the SQLite queue sqlite:\/\/.*a-folder\.sqlite: .*The path is a folder, not a SQLite file/,
        ],
        ['sqlite:///dev/zero?mode=rwc', /The path is a device, pipe or socket, not a SQLite file/],
        ['sqlite://queue%00.sqlite?mode=rwc', /the path contains a NUL character \(%00\)/],
        [
          'sqlite://queue.sqlite?mode=rwc&cache=shared',
          /the parameter 'cache' means nothing here; the only one is mode/,
        ],
      ],
      Postgres: [
        [
          variant((url) => url.searchParams.set('connect_timeout', 'abc')),
          /The Postgres queue URI '.*' has connect_timeout=abc: expected a whole number\./,
        ],
        [
          variant((url) => url.searchParams.set('sslcert', '/dev/zero')),
          /has sslcert=\/dev\/zero: expected a certificate or key file, found a folder, device or pipe\./,
        ],
      ],
      Redis: [
        [
          variant((url) => {
            url.pathname = '/99';
          }),
          /Cannot use database 99 of the Redis server at redis:\/\/.*: DB index is out of range/,
        ],
        [
          variant((url) => {
            url.pathname = '/abc';
          }),
          /The Redis URI '.*' has the path '\/abc'; the path of a Redis URI is the database number/,
        ],
        [
          variant((url) => url.searchParams.set('connectTimeout', 'abc')),
          /has connectTimeout=abc; expected a whole number of milliseconds/,
        ],
      ],
    };
    const cases = byKind[store.kind];
    const results = await Promise.all(
      cases.map(([bad]) =>
        runLoco(app, ['jobs', 'enqueue', 'DownloadWorker', '-e', 'test'], { ...env, LOCO_TEST_QUEUE_URI: bad }),
      ),
    );
    for (const [i, [bad, expected]] of cases.entries()) {
      failsClearly(results[i], expected, bad);
      assert.is(results[i].stderr.trim().split('\n').length, 1, `${bad}: one line (${results[i].stderr})`);
    }
    assert.equal(await backend.list({}), [], 'nothing reached the test store');
    rmSync(path.join(app, 'a-folder.sqlite'), { recursive: true });
  });

  test('commands that only read (list, stats, dump) never create a store', async () => {
    const unused = store.unused();
    const absent = { ...env, LOCO_TEST_QUEUE_URI: unused.uri };
    const results = await Promise.all(
      [['list'], ['stats'], ['dump', '--folder', 'never']].map((args) =>
        runLoco(app, ['jobs', ...args, '-e', 'test'], absent),
      ),
    );
    if (store.kind === 'Redis') {
      // Reading a Redis prefix creates nothing: an unused one is an empty queue.
      for (const result of results) succeeds(result, 'read from an unused prefix');
      assert.match(results[0].stdout, 'No jobs in the queue.');
    } else {
      for (const result of results)
        failsClearly(result, /There is no queue .*yet: nothing has been enqueued/, 'no store yet');
    }
    assert.is(await unused.exists(), false, 'nothing was created');
  });

  test('bad option values and a missing required option fail before touching the queue', async () => {
    const results = await Promise.all([
      jobs('purge', '--max-age', '-1'),
      jobs('list', '--limit', '0'),
      jobs('dump', '--status', 'done'),
      jobs('cancel'),
      jobs('enqueue', 'DownloadWorker', '--delay', 'soon'),
    ]);
    const expected = [
      /--max-age.*Expected a number >= 0/,
      /--limit.*Expected a whole number >= 1/,
      /'done' is not a job status/,
      /required option '-n, --name/,
      /--delay.*Expected a duration/,
    ];
    for (const [i, result] of results.entries()) failsClearly(result, expected[i], expected[i].source);
    assert.equal(await backend.list({}), []);
  });

  test.run();
}
