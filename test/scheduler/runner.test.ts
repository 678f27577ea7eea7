// One run of a job as a user sees it: `output: stdout` prints start, output lines (prefixed
// with the job name), end and duration; `silent` prints nothing but failures. Shell commands get
// Loco's LOCO_ENV, tasks their key:value args, worker jobs are enqueued.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InProcessBackend, Queue } from '../../runtime/src/internals.js';
import type { JobAction, ScheduledJob } from '../../runtime/src/scheduler/config.js';
import { jobRunner } from '../../runtime/src/scheduler/runner.js';
import { parseSchedule } from '../../runtime/src/scheduler/schedule.js';
import type { ScheduledTasks } from '../../runtime/src/scheduler/tasks.js';
import { EchoWorker, recordingLogger, testContext } from '../queue/helpers.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'loco-scheduler-runner-'));
const TICK = Date.parse('2030-06-01T10:00:00Z');

function job(name: string, action: JobAction, output: 'stdout' | 'silent' = 'stdout'): ScheduledJob {
  return {
    name,
    file: 'config/scheduler.yaml',
    key: `jobs.${name}`,
    action,
    schedule: parseSchedule('every minute'),
    runOnStart: false,
    tags: [],
    output,
    catchUpMs: 0,
    allowOverlap: false,
  };
}

/** A runner printing into `out` and `err`, logging into `log`, with tasks that record their calls. */
function runner(queue = new Queue('BackgroundQueue', new InProcessBackend())) {
  const out: string[] = [];
  const err: string[] = [];
  const log: string[] = [];
  const taskCalls: Array<[string, string[]]> = [];
  const tasks: ScheduledTasks = {
    names: () => ['report', 'broken'],
    run: async (name, args) => {
      taskCalls.push([name, args]);
      if (name === 'broken') throw new Error('the report table is missing');
    },
  };
  const run = jobRunner({
    root,
    environment: 'production',
    tasks,
    queue,
    logger: recordingLogger(log),
    print: { out: (line) => out.push(line), err: (line) => err.push(line) },
  });
  return { run, out, err, log, taskCalls, queue };
}

test('stdout: start, each output line prefixed with the job name, end with the duration', async () => {
  const r = runner();
  const command =
    'echo "env=$LOCO_ENV job=$LOCO_SCHEDULER_JOB tick=$LOCO_SCHEDULER_TICK"; echo second line; echo oops >&2';
  await r.run(job('write_content', { kind: 'shell', command }), TICK);
  assert.is(r.out[0], `[write_content] started (2030-06-01T10:00:00Z): shell: ${command}`);
  assert.equal(r.out.slice(1, 3), [
    '[write_content] env=production job=write_content tick=2030-06-01T10:00:00Z',
    '[write_content] second line',
  ]);
  assert.match(r.out[3], /^\[write_content\] finished in \d+ ms$/);
  assert.equal(r.err, ['[write_content] oops'], "the command's stderr goes to stderr");
  assert.equal(
    r.log.filter((line) => !line.startsWith('DEBUG')),
    [],
  );
});

test("shell commands run in the app's root folder; run_on_start runs are labelled so", async () => {
  const r = runner();
  await r.run(job('where', { kind: 'shell', command: 'pwd > where.txt' }), undefined);
  assert.is(readFileSync(path.join(root, 'where.txt'), 'utf8').trim(), root);
  assert.match(r.out[0], '[where] started (run_on_start): shell: pwd > where.txt');
});

test('a failing command is reported with its exit status, and the runner resolves', async () => {
  const r = runner();
  await r.run(job('fails', { kind: 'shell', command: 'echo trying; exit 3' }), TICK);
  assert.equal(r.out.slice(0, 2), [
    '[fails] started (2030-06-01T10:00:00Z): shell: echo trying; exit 3',
    '[fails] trying',
  ]);
  assert.match(r.err[0], /^\[fails\] failed in \d+ ms: exit status 3$/);
});

test('silent: nothing printed on success; a failure is logged with the last lines of its output', async () => {
  const r = runner();
  await r.run(job('quiet', { kind: 'shell', command: 'echo fine' }, 'silent'), TICK);
  assert.equal([...r.out, ...r.err, ...r.log.filter((line) => !line.startsWith('DEBUG'))], []);
  await r.run(job('quiet', { kind: 'shell', command: 'seq 1 30; echo "disk full" >&2; exit 1' }, 'silent'), TICK);
  assert.equal([...r.out, ...r.err], []);
  const [failure] = r.log.filter((line) => line.startsWith('ERROR'));
  assert.match(
    failure,
    /^ERROR scheduler: quiet \(2030-06-01T10:00:00Z, shell: .*\) failed in \d+ ms: exit status 1; its last output:\n/,
  );
  assert.match(failure, '\n  30\n  disk full');
  assert.not.match(failure, '\n  10\n', 'only the last 20 lines');
});

test("tasks get Loco's key:value args; a task's failure is reported", async () => {
  const r = runner();
  await r.run(job('nightly', { kind: 'task', task: 'report', args: ['year:2024', 'format:csv'] }), TICK);
  assert.equal(r.taskCalls, [['report', ['year:2024', 'format:csv']]]);
  assert.is(r.out[0], '[nightly] started (2030-06-01T10:00:00Z): task report year:2024 format:csv');
  assert.match(r.out[1], /^\[nightly\] finished in \d+ ms$/);
  await r.run(job('broken', { kind: 'task', task: 'broken', args: [] }, 'silent'), TICK);
  assert.match(r.log.find((line) => line.startsWith('ERROR')) ?? '', 'failed in');
  assert.match(r.log.find((line) => line.startsWith('ERROR')) ?? '', 'Error: the report table is missing');
});

test('worker jobs are enqueued with their args and the worker defaults, or run inline in ForegroundBlocking', async () => {
  const store = new InProcessBackend();
  const ctx = testContext(store);
  ctx.queue.register(EchoWorker.build(ctx));
  const r = runner(ctx.queue);
  await r.run(job('echo', { kind: 'worker', worker: 'EchoWorker', args: { n: 7 } }), TICK);
  const [queued] = await store.list({});
  assert.is(queued.name, 'EchoWorker');
  assert.equal(queued.task_data, { n: 7 });
  assert.match(r.out[1], `[echo] finished in`);
  assert.match(r.out[1], `: enqueued EchoWorker job ${queued.id}`);

  const inline = testContext(undefined, 'ForegroundBlocking');
  inline.queue.register(EchoWorker.build(inline));
  const r2 = runner(inline.queue);
  await r2.run(job('echo', { kind: 'worker', worker: 'EchoWorker', args: { n: 8 } }), TICK);
  assert.match(r2.out[1], ': EchoWorker ran inline (ForegroundBlocking)');
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
