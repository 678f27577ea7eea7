// `loco task` as a user runs it: a real child process in a copy of a fixture app.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFixtureApp, runLoco } from './helpers.js';

const app = copyFixtureApp('tasks-app');
const noTasksApp = copyFixtureApp('jobs-app');
const RUNS = path.join(app, 'runs.jsonl');

/** The lines the app's tasks and its onShutdown recorded since the last call. */
function runs(): Array<Record<string, unknown>> {
  if (!existsSync(RUNS)) return [];
  const lines = readFileSync(RUNS, 'utf8').trim().split('\n');
  rmSync(RUNS);
  return lines.map((line) => JSON.parse(line));
}

test.after(() => {
  rmSync(app, { recursive: true, force: true });
  rmSync(noTasksApp, { recursive: true, force: true });
});

test('loco task lists the tasks by name, with their descriptions', async () => {
  const result = await runLoco(app, ['task'], {});
  assert.is(result.code, 0, result.stderr);
  assert.is(
    result.stdout,
    'Tasks (run one with npx loco task <name> [key:value ...]):\n' +
      '  cleanup      Deletes what is older than days:<n>\n' +
      '  explode      Always fails\n' +
      '  send_report\n',
  );
  assert.equal(runs(), [{ environment: 'development', shutdown: true }]);
});

test('loco task in an app without tasks says how to add one', async () => {
  const result = await runLoco(noTasksApp, ['task', '-e', 'foreground'], {});
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, 'No tasks registered. Add one with npx loco-gen task <name>');
});

test('loco task <name> key:value ... runs the task with its vars, shuts the app down, exits 0', async () => {
  const result = await runLoco(app, ['task', 'cleanup', 'days:30', 'url:http://x:80/a', 'empty:'], {});
  assert.is(result.code, 0, result.stderr);
  assert.equal(runs(), [
    { environment: 'development', task: 'cleanup', vars: { days: '30', url: 'http://x:80/a', empty: '' } },
    { environment: 'development', shutdown: true },
  ]);
  assert.match(result.stderr, /task 'cleanup' done in \d+ ms/);
});

test('-e picks the environment', async () => {
  const result = await runLoco(app, ['task', 'send_report', 'to:ops', '-e', 'test'], {});
  assert.is(result.code, 0, result.stderr);
  assert.equal(runs(), [
    { environment: 'test', task: 'send_report', to: 'ops' },
    { environment: 'test', shutdown: true },
  ]);
});

test('a task that throws: exit 1 with its error, and the app is shut down', async () => {
  const result = await runLoco(app, ['task', 'explode'], {});
  assert.is(result.code, 1);
  assert.match(result.stderr, "error: task 'explode' failed: Error: the fuse was lit");
  assert.equal(runs(), [{ environment: 'development', shutdown: true }]);
});

test('a var the task requires and was not given: exit 1, naming the key and how to pass it', async () => {
  const result = await runLoco(app, ['task', 'send_report'], {});
  assert.is(result.code, 1);
  assert.match(
    result.stderr,
    "error: task 'send_report' failed: The task 'send_report' needs the var 'to' (none were given). " +
      'Pass it as loco task send_report to:<value>.',
  );
  assert.equal(runs(), [{ environment: 'development', shutdown: true }]);
});

test('an unknown task: exit 1, the registered ones listed and the near one named', async () => {
  const result = await runLoco(app, ['task', 'cleanp'], {});
  assert.is(result.code, 1);
  assert.match(
    result.stderr,
    "error: No task is registered under the name 'cleanp' (did you mean cleanup?). " +
      'Registered tasks: cleanup, explode, send_report.',
  );
  assert.equal(runs(), [{ environment: 'development', shutdown: true }]);
});

test('an argument that is not key:value is refused before the app boots', async () => {
  const result = await runLoco(app, ['task', 'cleanup', 'days'], {});
  assert.is(result.code, 1);
  assert.match(
    result.stderr,
    "error: Task vars are key:value pairs; 'days' has no ':'. Pass it as loco task cleanup key:value.",
  );
  assert.equal(runs(), []);
});

test.run();
