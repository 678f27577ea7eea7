import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Result, exec as run, launch as start, succeeded } from './processes.js';

// Scaffolds an app with create-loco-app (packing the runtime and loco-gen, npm install from the
// registry, which compiles better-sqlite3), generates a worker and a task in it with its own
// loco-gen, runs the app's own tests and type check, and its task. Takes a few minutes.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CREATE = path.join(ROOT, 'generators/bin/create-loco-app.ts');
const MINUTE = 60_000;
const work = mkdtempSync(path.join(tmpdir(), 'loco-e2e-'));
const app = path.join(work, 'e2e-app');
const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'loco e2e',
  GIT_AUTHOR_EMAIL: 'e2e@example.com',
  GIT_COMMITTER_NAME: 'loco e2e',
  GIT_COMMITTER_EMAIL: 'e2e@example.com',
  NO_COLOR: '1',
};

const exec = (command: string, args: string[], cwd: string, timeoutMs: number) =>
  run(command, args, cwd, timeoutMs, env);
const launch = (command: string, args: string[], cwd: string) => start(command, args, cwd, env);

/** Each step needs the ones before it; a later step says so instead of failing obscurely. */
let stepsDone = 0;
function needSteps(step: number): void {
  assert.ok(stepsDone >= step, `this step needs steps 1..${step}, and one of them failed`);
}

test.after(() => rmSync(work, { recursive: true, force: true }));

test('create-loco-app --yes writes, packs, installs and commits an app', async () => {
  const created = await exec(process.execPath, ['--import', 'tsx', CREATE, app, '--yes'], ROOT, 15 * MINUTE);
  succeeded(created, 'create-loco-app');
  const pkg = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'));
  for (const spec of [pkg.dependencies['loco-runtime'], pkg.devDependencies['loco-gen']]) {
    assert.ok(existsSync(path.join(app, spec.replace(/^file:/, ''))), `${spec} is missing`);
  }
  assert.ok(existsSync(path.join(app, 'node_modules/loco-runtime/dist/index.js')));
  assert.ok(existsSync(path.join(app, 'node_modules/.bin/loco-gen')));
  // The app's queue is SQLite: better-sqlite3 must have been compiled, its install script allowed.
  assert.ok(existsSync(path.join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node')));
  assert.not.match(created.output, /not yet covered by allowScripts:[\s\S]*(better-sqlite3|esbuild)@/);
  const log = await exec('git', ['log', '--oneline'], app, MINUTE);
  succeeded(log, 'git log');
  assert.match(log.output, 'Initial commit from create-loco-app');
  const status = await exec('git', ['status', '--porcelain'], app, MINUTE);
  assert.is(status.output, '', 'the first commit holds every file, vendor/ and package-lock.json included');
  stepsDone = 1;
});

test('npx loco-gen worker report_worker writes the worker and registers it', async () => {
  needSteps(1);
  const generated = await exec('npx', ['loco-gen', 'worker', 'report_worker'], app, 2 * MINUTE);
  succeeded(generated, 'loco-gen worker report_worker');
  assert.ok(existsSync(path.join(app, 'src/workers/report_worker.ts')));
  assert.ok(existsSync(path.join(app, 'tests/workers/report_worker.test.ts')));
  const source = readFileSync(path.join(app, 'src/app.ts'), 'utf8');
  assert.match(source, "import { ReportWorkerWorker } from './workers/report_worker.js';\n");
  assert.match(
    source,
    '    queue.register(DownloadWorker.build(ctx));\n    queue.register(ReportWorkerWorker.build(ctx));\n',
  );
  stepsDone = 2;
});

test('npx loco-gen task cleanup writes the task and registers it', async () => {
  needSteps(2);
  const generated = await exec('npx', ['loco-gen', 'task', 'cleanup'], app, 2 * MINUTE);
  succeeded(generated, 'loco-gen task cleanup');
  assert.ok(existsSync(path.join(app, 'src/tasks/cleanup.ts')));
  assert.ok(existsSync(path.join(app, 'tests/tasks/cleanup.test.ts')));
  const source = readFileSync(path.join(app, 'src/app.ts'), 'utf8');
  assert.match(source, "import { CleanupTask } from './tasks/cleanup.js';\n");
  assert.match(source, '  registerTasks(tasks: TaskRegistry) {\n    tasks.register(new CleanupTask());\n  }\n');
  stepsDone = 3;
});

test("the app's own npm test passes, the generated tests included", async () => {
  needSteps(3);
  const tested = await exec('npm', ['test'], app, 5 * MINUTE);
  succeeded(tested, 'npm test');
  assert.match(tested.output, 'report_worker.test.ts');
  assert.match(tested.output, 'cleanup.test.ts');
  assert.match(tested.output, /Passed:\s+8/);
});

/** Runs the app's npm test with `file` edited by `edit`, then puts the file back. */
async function testEdited(file: string, edit: (text: string) => string): Promise<Result> {
  const full = path.join(app, file);
  const original = readFileSync(full, 'utf8');
  const edited = edit(original);
  assert.is.not(edited, original, `the edit of ${file} changed nothing`);
  writeFileSync(full, edited);
  try {
    return await exec('npm', ['test'], app, 5 * MINUTE);
  } finally {
    writeFileSync(full, original);
  }
}

test("the generated tests fail when the worker's perform throws", async () => {
  needSteps(3);
  const tested = await testEdited('src/workers/report_worker.ts', (text) =>
    text.replace(
      /async perform\(args: ReportWorkerWorkerArgs\): Promise<void> \{\n/,
      (head) => `${head}    throw new Error('report broke');\n`,
    ),
  );
  assert.is.not(tested.code, 0, `npm test passed with a throwing worker:\n${tested.output.slice(-3000)}`);
  assert.match(tested.output, 'report broke');
  assert.match(tested.output, /Passed:\s+6/);
});

test('the generated tests fail when the workers are not registered in connectWorkers', async () => {
  needSteps(3);
  const tested = await testEdited('src/app.ts', (text) =>
    text
      .replace('    queue.register(ReportWorkerWorker.build(ctx));\n', '')
      .replace('    queue.register(DownloadWorker.build(ctx));\n', ''),
  );
  assert.is.not(tested.code, 0, `npm test passed with no worker registered:\n${tested.output.slice(-3000)}`);
  assert.match(tested.output, 'ReportWorkerWorker is not registered');
  assert.match(tested.output, 'DownloadWorker is not registered');
  // Only the task's test and the controller's 400 and 415 tests do not run a job.
  assert.match(tested.output, /Passed:\s+3/);
});

test('npx loco task lists the task, and runs it with its vars', async () => {
  needSteps(3);
  const listed = await exec('npx', ['loco', 'task'], app, MINUTE);
  succeeded(listed, 'loco task');
  assert.match(listed.output, /^ {2}cleanup {2}What cleanup does/m);
  const ran = await exec('npx', ['loco', 'task', 'cleanup', 'days:30'], app, MINUTE);
  succeeded(ran, 'loco task cleanup days:30');
  assert.match(ran.output, '[development] cleanup runs with {"days":"30"}');
  const unknown = await exec('npx', ['loco', 'task', 'clean'], app, MINUTE);
  assert.is(unknown.code, 1);
  assert.match(unknown.output, "No task is registered under the name 'clean' (did you mean cleanup?)");
});

test('npx tsc --noEmit passes, the generated worker and task included', async () => {
  needSteps(3);
  succeeded(await exec('npx', ['tsc', '--noEmit'], app, 5 * MINUTE), 'tsc --noEmit');
});

test('a second loco-gen worker report_worker or task cleanup leaves src/app.ts as it is', async () => {
  needSteps(3);
  const before = readFileSync(path.join(app, 'src/app.ts'), 'utf8');
  const again = await exec('npx', ['loco-gen', 'worker', 'report_worker'], app, 2 * MINUTE);
  succeeded(again, 'second loco-gen worker report_worker');
  assert.match(again.output, 'Nothing to do: ReportWorkerWorker exists and is registered.');
  const taskAgain = await exec('npx', ['loco-gen', 'task', 'cleanup'], app, 2 * MINUTE);
  succeeded(taskAgain, 'second loco-gen task cleanup');
  assert.match(taskAgain.output, 'Nothing to do: CleanupTask exists and is registered.');
  assert.is(readFileSync(path.join(app, 'src/app.ts'), 'utf8'), before);
});

const schema = `loco_e2e_${process.pid}`;
const prefix = `loco-e2e-${process.pid}`;
const stores = [
  { kind: 'Sqlite', uri: 'sqlite://loco_development.sqlite?mode=rwc' },
  { kind: 'Postgres', uri: `postgres://postgres@127.0.0.1:5432/test?schema=${schema}` },
  { kind: 'Redis', uri: `redis://127.0.0.1:6379?prefix=${prefix}` },
];

for (const store of stores) {
  test(`switched to ${store.kind} by config alone, npx loco start --worker runs the job the app's route enqueues`, async () => {
    needSteps(1);
    const development = readFileSync(path.join(app, 'config/development.yaml'), 'utf8');
    const switched = development
      .replace(/^ {2}kind: \w+$/m, `  kind: ${store.kind}`)
      .replace(/^ {2}uri: .*$/m, `  uri: "${store.uri}"`);
    assert.match(switched, `kind: ${store.kind}`);
    writeFileSync(path.join(app, 'config/development.local.yaml'), switched);
    const worker = launch('npx', ['loco', 'start', '--worker'], app);
    const server = launch('npx', ['loco', 'start', '-p', '0', '-b', '127.0.0.1'], app);
    try {
      await worker.waitFor(new RegExp(`worker started: ${store.kind} queue`));
      const [, url] = await server.waitFor(/listening on (http:\/\/\S+)/);
      const guid = `e2e-${store.kind.toLowerCase()}`;
      const response = await fetch(`${url}/downloads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userGuid: guid }),
      });
      assert.is(response.status, 202);
      const { jobId } = (await response.json()) as { jobId: string };
      assert.type(jobId, 'string');
      await worker.waitFor(new RegExp(`Preparing the download of user ${guid}`), 30_000);
      const list = await exec('npx', ['loco', 'jobs', 'list', '--status', 'completed'], app, MINUTE);
      succeeded(list, 'loco jobs list');
      assert.match(list.output, jobId);
    } finally {
      worker.stop();
      server.stop();
      await Promise.all([worker.exited, server.exited]);
      assert.match(
        worker.output(),
        /SIGTERM: stopping[\s\S]*stopped\./,
        `the worker stops cleanly on SIGTERM:\n${worker.output().slice(-2000)}`,
      );
      assert.match(
        server.output(),
        /SIGTERM: stopping[\s\S]*stopped\./,
        `the server stops cleanly on SIGTERM:\n${server.output().slice(-2000)}`,
      );
      rmSync(path.join(app, 'config/development.local.yaml'), { force: true });
    }
  });
}

test.after(async () => {
  const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`{${prefix}}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

test.run();
