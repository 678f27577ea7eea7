import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addTaskToApp } from '../../generators/task/codemod.js';
import { addWorkerToApp } from '../../generators/worker/codemod.js';
import { codemodFixtureTests, count } from './codemod-fixtures.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/codemod-tasks');
const SEND_REPORT = { className: 'SendReportTask', modulePath: './tasks/send_report' };
const read = (...parts: string[]) => readFileSync(path.join(FIXTURES, ...parts), 'utf8');

codemodFixtureTests({
  folder: FIXTURES,
  add: (source) => addTaskToApp(source, 'src/app.ts', SEND_REPORT),
  className: 'SendReportTask',
  registered: 'new SendReportTask(',
});

test('keeps CRLF line endings on every line, the added ones included', () => {
  const result = addTaskToApp(read('crlf', 'input.ts.txt'), 'src/app.ts', SEND_REPORT);
  assert.is(result.text.split('\n').length - 1, count(result.text, '\r\n'));
});

test('a second task goes after the first, in both places', () => {
  const first = addTaskToApp(read('class-method', 'input.ts.txt'), 'src/app.ts', SEND_REPORT).text;
  const second = addTaskToApp(first, 'src/app.ts', { className: 'CleanupTask', modulePath: './tasks/cleanup' }).text;
  const lines = second.split('\n');
  const at = (text: string) => lines.findIndex((line) => line.includes(text));
  assert.is(at("import { CleanupTask } from './tasks/cleanup.js';"), at('import { SendReportTask }') + 1);
  assert.is(at('tasks.register(new CleanupTask());'), at('tasks.register(new SendReportTask());') + 1);
});

test('a task and a worker in one app: each goes to its own hook', () => {
  const input = read('class-method', 'input.ts.txt');
  const withTask = addTaskToApp(input, 'src/app.ts', SEND_REPORT).text;
  const both = addWorkerToApp(withTask, 'src/app.ts', {
    className: 'ReportWorkerWorker',
    modulePath: './workers/report_worker',
  }).text;
  assert.match(
    both,
    '    queue.register(DownloadWorker.build(ctx));\n    queue.register(ReportWorkerWorker.build(ctx));\n  }',
  );
  assert.match(
    both,
    '    // npx loco-gen task <name> adds its tasks here.\n    tasks.register(new SendReportTask());\n  }',
  );
  assert.is(addTaskToApp(both, 'src/app.ts', SEND_REPORT).text, both);
});

test('the task class imported from another module is a clash, not something to paste', () => {
  const input = read('class-method-with-tasks', 'input.ts.txt');
  let caught: unknown;
  try {
    addTaskToApp(input, 'src/app.ts', { className: 'CleanupTask', modulePath: './tasks/clean_up' });
  } catch (error) {
    caught = error;
  }
  assert.is(
    (caught as Error).message,
    "src/app.ts:2: CleanupTask is already imported from './tasks/cleanup.js'; a new task class of that name, " +
      "imported from './tasks/clean_up.js', would clash with it.",
  );
});

test.run();
