import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateWorker } from '../../generators/worker/index.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/codemod');
const fixture = (name: string, file: string) => readFileSync(path.join(FIXTURES, name, file), 'utf8');
const plain = (text: string) => stripVTControlCharacters(text);

/** A folder holding only src/app.ts, and a way to run `loco-gen worker` in it. */
function app(appSource: string) {
  const root = mkdtempSync(path.join(tmpdir(), 'loco-gen-'));
  mkdirSync(path.join(root, 'src'));
  writeFileSync(path.join(root, 'src/app.ts'), appSource);
  const lines: string[] = [];
  return {
    root,
    lines,
    read: (file: string) => readFileSync(path.join(root, file), 'utf8'),
    exists: (file: string) => existsSync(path.join(root, file)),
    write: (file: string, text: string) => writeFileSync(path.join(root, file), text),
    output: () => plain(lines.join('\n')),
    generate: (name: string, options: { force?: boolean; dryRun?: boolean } = {}) => {
      lines.length = 0;
      const push = (line: string) => lines.push(line);
      return generateWorker(name, { cwd: root, log: push, error: push, ...options });
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

test('writes the worker and its test and registers the worker in src/app.ts', async () => {
  const t = app(fixture('class-method', 'input.ts.txt'));
  try {
    assert.is(await t.generate('report_worker'), 0);
    assert.fixture(t.read('src/app.ts'), fixture('class-method', 'expected.ts.txt'));
    const worker = t.read('src/workers/report_worker.ts');
    assert.match(worker, "import { BackgroundWorker } from 'loco-runtime';");
    assert.match(worker, 'export interface ReportWorkerWorkerArgs {');
    assert.match(worker, 'export class ReportWorkerWorker extends BackgroundWorker<ReportWorkerWorkerArgs> {');
    assert.match(worker, 'async perform(args: ReportWorkerWorkerArgs): Promise<void> {');
    const spec = t.read('tests/workers/report_worker.test.ts');
    assert.match(spec, "import { App } from '../../src/app.js';");
    assert.match(spec, "import { ReportWorkerWorker } from '../../src/workers/report_worker.js';");
    assert.match(spec, 'const boot = await bootTest(App);');
    assert.match(spec, "import * as assert from 'uvu/assert';");
    assert.match(spec, "await ReportWorkerWorker.performLater(boot.ctx, { userGuid: 'foo' });");
    assert.match(spec, "boot.assertPerformed(ReportWorkerWorker, { userGuid: 'foo' }, { count: 1 });");
    assert.match(spec, 'test.run();');
    assert.match(t.output(), 'create  src/workers/report_worker.ts');
    assert.match(t.output(), "+ 5: import { ReportWorkerWorker } from './workers/report_worker.js';");
    assert.match(t.output(), '+ 19: queue.register(ReportWorkerWorker.build(ctx));');
  } finally {
    t.remove();
  }
});

test('a second run changes nothing and says so; edits to the worker are kept', async () => {
  const t = app(fixture('class-method', 'input.ts.txt'));
  try {
    assert.is(await t.generate('reportWorker'), 0);
    const appAfterFirst = t.read('src/app.ts');
    t.write('src/workers/report_worker.ts', '// edited by hand\n');
    assert.is(await t.generate('report_worker'), 0);
    assert.is(t.read('src/app.ts'), appAfterFirst);
    assert.is(t.read('src/workers/report_worker.ts'), '// edited by hand\n');
    assert.match(t.output(), 'keep  src/workers/report_worker.ts (exists; --force overwrites it)');
    assert.match(t.output(), 'unchanged  src/app.ts (already imports and registers ReportWorkerWorker)');
    assert.match(t.output(), 'Nothing to do: ReportWorkerWorker exists and is registered.');
  } finally {
    t.remove();
  }
});

test('--force overwrites the worker files and still adds no second registration', async () => {
  const t = app(fixture('class-method', 'input.ts.txt'));
  try {
    await t.generate('report_worker');
    t.write('src/workers/report_worker.ts', '// edited by hand\n');
    assert.is(await t.generate('report_worker', { force: true }), 0);
    assert.match(t.read('src/workers/report_worker.ts'), 'export class ReportWorkerWorker');
    assert.fixture(t.read('src/app.ts'), fixture('class-method', 'expected.ts.txt'));
    assert.match(t.output(), 'overwrite  src/workers/report_worker.ts');
  } finally {
    t.remove();
  }
});

test('--dry-run prints the plan and writes nothing', async () => {
  const t = app(fixture('class-method', 'input.ts.txt'));
  try {
    assert.is(await t.generate('report_worker', { dryRun: true }), 0);
    assert.is(t.read('src/app.ts'), fixture('class-method', 'input.ts.txt'));
    assert.not.ok(t.exists('src/workers/report_worker.ts'));
    assert.not.ok(t.exists('tests/workers/report_worker.test.ts'));
    assert.match(t.output(), 'would create  src/workers/report_worker.ts');
    assert.match(t.output(), 'would create  tests/workers/report_worker.test.ts');
    assert.match(t.output(), 'would update  src/app.ts');
    assert.match(t.output(), '+ 19: queue.register(ReportWorkerWorker.build(ctx));');
    assert.match(t.output(), 'Dry run: nothing was written.');
  } finally {
    t.remove();
  }
});

test('a bad name is refused with the reason, and nothing is written', async () => {
  const t = app(fixture('class-method', 'input.ts.txt'));
  try {
    assert.is(await t.generate('../x'), 1);
    assert.match(t.output(), 'Invalid worker name "../x": it is a path');
    assert.not.ok(t.exists('src/workers'));
    assert.is(t.read('src/app.ts'), fixture('class-method', 'input.ts.txt'));
  } finally {
    t.remove();
  }
});

test('outside an app (no src/app.ts) it refuses and writes nothing', async () => {
  const t = app('');
  try {
    rmSync(path.join(t.root, 'src/app.ts'));
    assert.is(await t.generate('report_worker'), 1);
    assert.match(t.output(), 'No src/app.ts in');
    assert.not.ok(t.exists('src/workers'));
  } finally {
    t.remove();
  }
});

test('the test imports the app as the app file exports it (default export)', async () => {
  const t = app(fixture('object-literal-arrow', 'input.ts.txt'));
  try {
    assert.is(await t.generate('report_worker'), 0);
    assert.match(t.read('tests/workers/report_worker.test.ts'), "import App from '../../src/app.js';");
    assert.fixture(t.read('src/app.ts'), fixture('object-literal-arrow', 'expected.ts.txt'));
  } finally {
    t.remove();
  }
});

test.run();
