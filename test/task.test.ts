import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type AppContext,
  type Hooks,
  LocoError,
  RegistryError,
  Task,
  TaskRegistry,
  TaskVars,
} from '../runtime/src/index.js';
import { bootTest } from '../runtime/src/testing.js';
import { ROOT } from './cli/helpers.js';

class CleanupTask extends Task {
  readonly name = 'cleanup';
  override readonly description = 'Deletes old rows';
  readonly runs: Array<{ environment: string; vars: Record<string, string> }> = [];

  async run(ctx: AppContext, vars: TaskVars): Promise<void> {
    this.runs.push({ environment: ctx.environment, vars: vars.all() });
  }
}

class OtherCleanupTask extends Task {
  readonly name = 'cleanup';
  async run(): Promise<void> {}
}

class SendReportTask extends Task {
  readonly name = 'send_report';
  async run(): Promise<void> {}
}

function thrownBy(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

test('TaskVars.parse reads key:value pairs; the value is all after the first colon, and may be empty', () => {
  const vars = TaskVars.parse(['days:30', 'url:redis://x:6379/0', 'note:', 'days:31']);
  assert.equal(vars.all(), { days: '31', url: 'redis://x:6379/0', note: '' });
  assert.is(vars.get('url'), 'redis://x:6379/0');
  assert.is(vars.get('missing'), undefined);
  assert.is(vars.require('note'), '');
});

test('TaskVars.parse refuses an argument without a colon or with an empty key, naming it', () => {
  const noColon = thrownBy(() => TaskVars.parse(['days:1', 'verbose'], 'cleanup'));
  assert.instance(noColon, LocoError);
  assert.is(
    noColon.message,
    "Task vars are key:value pairs; 'verbose' has no ':'. Pass it as loco task cleanup key:value.",
  );
  const emptyKey = thrownBy(() => TaskVars.parse([':30']));
  assert.is(
    emptyKey.message,
    "Task vars are key:value pairs; ':30' has an empty key. Pass it as loco task <name> key:value.",
  );
});

test('TaskVars.require names the missing key and how to pass it', () => {
  const error = thrownBy(() => new TaskVars({ days: '3' }, 'cleanup').require('table'));
  assert.instance(error, LocoError);
  assert.is(
    error.message,
    "The task 'cleanup' needs the var 'table' (given: days). Pass it as loco task cleanup table:<value>.",
  );
});

test('TaskRegistry lists tasks sorted by name and finds them by name', () => {
  const tasks = new TaskRegistry();
  const cleanup = new CleanupTask();
  tasks.register(new SendReportTask());
  tasks.register(cleanup);
  assert.equal(
    tasks.list().map((task) => task.name),
    ['cleanup', 'send_report'],
  );
  assert.is(tasks.get('cleanup'), cleanup);
  assert.is(tasks.get('nothing'), undefined);
});

test('TaskRegistry refuses a second task of the same name, naming both classes', () => {
  const tasks = new TaskRegistry();
  tasks.register(new CleanupTask());
  const error = thrownBy(() => tasks.register(new OtherCleanupTask()));
  assert.instance(error, RegistryError);
  assert.match(error.message, "Two tasks are registered under the name 'cleanup': CleanupTask and OtherCleanupTask.");
});

test('TaskRegistry refuses a task without a name', () => {
  const nameless = new (class NamelessTask extends Task {
    readonly name = '';
    async run(): Promise<void> {}
  })();
  const error = thrownBy(() => new TaskRegistry().register(nameless));
  assert.instance(error, RegistryError);
  assert.match(error.message, 'The task NamelessTask has no name.');
});

test('TaskRegistry.getOrThrow names the near task and the registered ones', () => {
  const tasks = new TaskRegistry();
  tasks.register(new CleanupTask());
  tasks.register(new SendReportTask());
  const error = thrownBy(() => tasks.getOrThrow('send_reprt'));
  assert.instance(error, RegistryError);
  assert.match(error.message, "No task is registered under the name 'send_reprt' (did you mean send_report?).");
  assert.match(error.message, 'Registered tasks: cleanup, send_report.');
  assert.not.match(thrownBy(() => tasks.getOrThrow('zzz')).message, 'did you mean');
});

const root = path.join(ROOT, 'test/fixtures/apps/tasks-app');

test('bootTest: registerTasks is called at boot, and runTask runs a task with its vars', async () => {
  const cleanup = new CleanupTask();
  const app: Hooks = {
    connectWorkers: () => undefined,
    registerTasks: (tasks) => tasks.register(cleanup),
  };
  const boot = await bootTest(app, { root });
  try {
    assert.equal(
      boot.app.tasks.list().map((task) => task.name),
      ['cleanup'],
    );
    await boot.runTask('cleanup', { days: '30' });
    await boot.runTask('cleanup');
    assert.equal(cleanup.runs, [
      { environment: 'test', vars: { days: '30' } },
      { environment: 'test', vars: {} },
    ]);
  } finally {
    await boot.shutdown();
  }
});

test('bootTest: runTask of a task not registered throws, naming registerTasks', async () => {
  const boot = await bootTest({ connectWorkers: () => undefined }, { root });
  try {
    let failure: unknown;
    await boot.runTask('cleanup').catch((error: unknown) => (failure = error));
    assert.instance(failure, RegistryError);
    assert.match((failure as Error).message, "No task is registered under the name 'cleanup'");
    assert.match((failure as Error).message, 'registerTasks');
  } finally {
    await boot.shutdown();
  }
});

test.run();
