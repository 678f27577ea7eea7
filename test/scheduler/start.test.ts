// A scheduler on a booted app, on the real clock and a real SQLite store: Loco's scheduler file
// runs unchanged (shell job, task job with args, cron with seconds, English, tags, output,
// run_on_start), and a job naming an unknown task stops it before anything runs.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boot, ConfigError } from '../../runtime/src/internals.js';
import { prepareScheduler } from '../../runtime/src/scheduler/start.js';
import type { ScheduledTasks } from '../../runtime/src/scheduler/tasks.js';
import { sleep } from '../queue/helpers.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'loco-scheduler-start-'));
mkdirSync(path.join(root, 'config'));
writeFileSync(
  path.join(root, 'config/test.yaml'),
  `workers:\n  mode: BackgroundQueue\nqueue:\n  kind: Sqlite\n  uri: sqlite://queue.sqlite?mode=rwc\nlogger:\n  enable: false\n`,
);
// As Loco's docs and generator write it; only the cron job fires every second instead of in minute 2.
writeFileSync(
  path.join(root, 'config/scheduler.yaml'),
  `output: stdout
jobs:
  write_content:
    shell: true
    run: "echo loco >> ./scheduler.txt"
    schedule: run every 1 second
    output: silent
    tags: ['base', 'infra']

  run_task:
    run: "foo LOCO_ENV:test SCHEDULER:true"
    schedule: "at 10:00 am"
    run_on_start: true

  list_if_users:
    run: "echo $LOCO_ENV >> ./users.txt"
    shell: true
    schedule: "* * * * * ? *"
    tags: ["base", "users"]
`,
);

const App = { connectWorkers() {} };

function fakeTasks(names: string[]) {
  const calls: Array<[string, string[]]> = [];
  const tasks: ScheduledTasks = {
    names: () => names,
    run: async (name, args) => {
      calls.push([name, args]);
    },
  };
  return { tasks, calls };
}

const lines = (file: string) =>
  existsSync(path.join(root, file)) ? readFileSync(path.join(root, file), 'utf8').split('\n').filter(Boolean) : [];

test("Loco's scheduler file runs unchanged", async () => {
  const booted = await boot(App, { environment: 'test', root });
  const { tasks, calls } = fakeTasks(['foo']);
  const printed: string[] = [];
  const print = { out: (line: string) => printed.push(line), err: (line: string) => printed.push(line) };
  try {
    const scheduler = prepareScheduler(booted.ctx, { file: 'config/scheduler.yaml', tasks, print });
    assert.equal(scheduler.jobs.map((job) => job.name).sort(), ['list_if_users', 'run_task', 'write_content']);
    assert.match(scheduler.claimedIn, `Sqlite queue sqlite://${root}/queue.sqlite`);
    const stop = new AbortController();
    const running = scheduler.run(stop.signal);
    await sleep(2600);
    stop.abort();
    await running;
  } finally {
    await booted.shutdown();
  }
  assert.ok(lines('scheduler.txt').length >= 2, `the shell job ran every second: ${lines('scheduler.txt')}`);
  assert.ok(
    lines('users.txt').length >= 2 && lines('users.txt').every((line) => line === 'test'),
    'the cron job ran every second, with LOCO_ENV',
  );
  assert.equal(calls[0], ['foo', ['LOCO_ENV:test', 'SCHEDULER:true']], 'run_on_start ran the task with its args');
  assert.not.ok(
    printed.some((line) => line.startsWith('[write_content]')),
    'output: silent prints nothing on success',
  );
  assert.ok(printed.some((line) => /^\[list_if_users\] started \(\S+Z\): shell: echo \$LOCO_ENV/.test(line)));
  assert.ok(
    printed.some((line) => /^\[run_task\] started \(run_on_start\): task foo LOCO_ENV:test SCHEDULER:true$/.test(line)),
  );
});

test('--tag and --name pick the jobs to run', async () => {
  const booted = await boot(App, { environment: 'test', root });
  try {
    const { tasks } = fakeTasks(['foo']);
    const file = 'config/scheduler.yaml';
    const names = (filter: { name?: string; tag?: string }) =>
      prepareScheduler(booted.ctx, { file, tasks, ...filter }).jobs.map((job) => job.name);
    assert.equal(names({ tag: 'users' }), ['list_if_users']);
    assert.equal(names({ tag: 'base' }), ['write_content', 'list_if_users']);
    assert.equal(names({ name: 'run_task' }), ['run_task']);
  } finally {
    await booted.shutdown();
  }
});

test('a job naming a task the app does not register stops the scheduler before anything runs', async () => {
  const booted = await boot(App, { environment: 'test', root });
  try {
    const { tasks } = fakeTasks(['seed']);
    prepareScheduler(booted.ctx, { file: 'config/scheduler.yaml', tasks });
    assert.unreachable('should refuse');
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.match((err as Error).message, `${root}/config/scheduler.yaml: jobs.run_task.run: names the task 'foo'`);
    assert.match((err as Error).message, 'registered tasks: seed.');
  } finally {
    await booted.shutdown();
  }
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
