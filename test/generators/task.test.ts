import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { init } from '../../generators/create-app/index.js';
import { generateTask } from '../../generators/task/index.js';
import { taskNames } from '../../generators/task/names.js';
import { appFolder, fixture, plainEnv, ROOT } from './app-folder.js';

const CLASS_METHOD = fixture('codemod-tasks/class-method', 'input.ts.txt');

for (const [typed, fileName, className] of [
  ['cleanup', 'cleanup', 'CleanupTask'],
  ['send_report', 'send_report', 'SendReportTask'],
  ['sendReport', 'send_report', 'SendReportTask'],
  ['send-report', 'send_report', 'SendReportTask'],
] as const) {
  test(`the name ${typed}: file ${fileName}.ts, class ${className}, run as loco task ${fileName}`, () => {
    assert.equal(taskNames(typed), { fileName, className, taskName: fileName });
  });
}

test('writes the task and its test and registers the task in registerTasks', async () => {
  const t = appFolder(CLASS_METHOD);
  try {
    assert.is(await generateTask('send_report', { cwd: t.root, ...t.printed() }), 0, t.output());
    assert.fixture(t.read('src/app.ts'), fixture('codemod-tasks/class-method', 'expected.ts.txt'));
    const task = t.read('src/tasks/send_report.ts');
    assert.match(task, "import { type AppContext, Task, type TaskVars } from 'loco-runtime';");
    assert.match(task, 'export class SendReportTask extends Task {');
    assert.match(task, "  readonly name = 'send_report';");
    assert.match(task, '  async run(ctx: AppContext, vars: TaskVars): Promise<void> {');
    const spec = t.read('tests/tasks/send_report.test.ts');
    assert.match(spec, "import { App } from '../../src/app.js';");
    assert.match(spec, "import { SendReportTask } from '../../src/tasks/send_report.js';");
    assert.match(spec, "await boot.runTask('send_report', { dry_run: 'true' });");
    assert.match(spec, "assert.instance(boot.app.tasks.get('send_report'), SendReportTask);");
    assert.match(t.output(), 'create  src/tasks/send_report.ts');
    assert.match(t.output(), 'create  tests/tasks/send_report.test.ts');
    assert.match(t.output(), "+ 5: import { SendReportTask } from './tasks/send_report.js';");
    assert.match(t.output(), '+ 24: tasks.register(new SendReportTask());');
  } finally {
    t.remove();
  }
});

test('a second run changes nothing and says so; --force rewrites the files but adds no second registration', async () => {
  const t = appFolder(CLASS_METHOD);
  try {
    await generateTask('send_report', { cwd: t.root, ...t.printed() });
    const appAfterFirst = t.read('src/app.ts');
    t.write('src/tasks/send_report.ts', '// edited by hand\n');
    assert.is(await generateTask('send_report', { cwd: t.root, ...t.printed() }), 0);
    assert.is(t.read('src/tasks/send_report.ts'), '// edited by hand\n');
    assert.match(t.output(), 'Nothing to do: SendReportTask exists and is registered.');
    assert.is(await generateTask('send_report', { cwd: t.root, force: true, ...t.printed() }), 0);
    assert.match(t.read('src/tasks/send_report.ts'), 'export class SendReportTask extends Task');
    assert.match(t.output(), 'overwrite  src/tasks/send_report.ts');
    assert.is(t.read('src/app.ts'), appAfterFirst);
  } finally {
    t.remove();
  }
});

test('--dry-run prints the plan and writes nothing', async () => {
  const t = appFolder(CLASS_METHOD);
  try {
    assert.is(await generateTask('send_report', { cwd: t.root, dryRun: true, ...t.printed() }), 0);
    assert.equal(t.files(), ['src/app.ts']);
    assert.match(t.output(), 'would create  src/tasks/send_report.ts');
    assert.match(t.output(), 'would update  src/app.ts');
    assert.match(t.output(), 'Dry run: nothing was written.');
  } finally {
    t.remove();
  }
});

test('CRLF and tabs of src/app.ts are kept', async () => {
  const crlf = fixture('codemod-tasks/crlf', 'input.ts.txt');
  const t = appFolder(crlf);
  try {
    assert.is(await generateTask('send_report', { cwd: t.root, ...t.printed() }), 0);
    assert.fixture(t.read('src/app.ts'), fixture('codemod-tasks/crlf', 'expected.ts.txt'));
  } finally {
    t.remove();
  }
});

test('without a registerTasks hook: exit 1, the lines to paste, the hook to add them to, nothing written', async () => {
  const t = appFolder(fixture('codemod-tasks/no-hook', 'input.ts.txt'));
  try {
    assert.is(await generateTask('send_report', { cwd: t.root, ...t.printed() }), 1);
    assert.equal(t.files(), ['src/app.ts']);
    const output = t.output();
    assert.match(output, 'src/app.ts: found no registerTasks hook');
    assert.match(output, "    import { SendReportTask } from './tasks/send_report.js';");
    assert.match(output, '    tasks.register(new SendReportTask());');
    assert.match(
      output,
      "Nothing was written. Add the lines above to src/app.ts (an app without a registerTasks hook needs one: registerTasks(tasks: TaskRegistry) {} in the App, with TaskRegistry imported from 'loco-runtime'), then run npx loco-gen task send_report again",
    );
    assert.match(output, 'then run npx loco-gen task send_report again');
  } finally {
    t.remove();
  }
});

test('a bad name is refused with the reason, nothing written', async () => {
  const t = appFolder(CLASS_METHOD);
  try {
    assert.is(await generateTask('class', { cwd: t.root, ...t.printed() }), 1);
    assert.match(t.output(), 'Invalid task name "class": \'class\' is a reserved word in TypeScript.');
    assert.match(t.output(), 'such as send_report.');
    assert.equal(t.files(), ['src/app.ts']);
  } finally {
    t.remove();
  }
});

/**
 * An app made by create-loco-app (not installed: its node_modules is this repository's, and its
 * tsconfig maps loco-runtime to the runtime's sources), and a way to run one of its test files.
 */
async function scaffoldedApp() {
  const cwd = mkdtempSync(path.join(tmpdir(), 'loco-gen-task-'));
  const root = path.join(cwd, 'app');
  const pack = async (_packages: unknown, vendorDir: string) => {
    mkdirSync(vendorDir, { recursive: true });
  };
  const quiet = () => undefined;
  const code = await init([root, '--yes', '--no-install', '--no-git'], { cwd, log: quiet, error: quiet, pack });
  assert.is(code, 0);
  const tsconfigFile = path.join(root, 'tsconfig.json');
  const tsconfig = JSON.parse(readFileSync(tsconfigFile, 'utf8'));
  tsconfig.compilerOptions.paths = {
    'loco-runtime': [path.join(ROOT, 'runtime/src/index.ts')],
    'loco-runtime/testing': [path.join(ROOT, 'runtime/src/testing.ts')],
  };
  writeFileSync(tsconfigFile, JSON.stringify(tsconfig, null, 2));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
  return {
    root,
    runTest: (file: string) => {
      const result = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), file], {
        cwd: root,
        env: plainEnv(),
        encoding: 'utf8',
      });
      return { code: result.status, output: stripVTControlCharacters(`${result.stdout}${result.stderr}`) };
    },
    remove: () => rmSync(cwd, { recursive: true, force: true }),
  };
}

test('in a new app, the generated test passes untouched, and fails once the task is not registered', async () => {
  const app = await scaffoldedApp();
  try {
    const printed: string[] = [];
    const print = (line: string) => printed.push(line);
    assert.is(await generateTask('cleanup', { cwd: app.root, log: print, error: print }), 0, printed.join('\n'));
    const appFile = path.join(app.root, 'src/app.ts');
    const source = readFileSync(appFile, 'utf8');
    assert.match(source, '  registerTasks(tasks: TaskRegistry) {\n    tasks.register(new CleanupTask());\n  }');

    const passed = app.runTest('tests/tasks/cleanup.test.ts');
    assert.is(passed.code, 0, passed.output);
    assert.match(passed.output, '[test] cleanup runs with {"dry_run":"true"}');

    writeFileSync(appFile, source.replace('    tasks.register(new CleanupTask());\n', ''));
    const failed = app.runTest('tests/tasks/cleanup.test.ts');
    assert.is.not(failed.code, 0, failed.output);
    assert.match(failed.output, "No task is registered under the name 'cleanup'");
    assert.match(failed.output, 'registerTasks');
  } finally {
    app.remove();
  }
});

test.run();
