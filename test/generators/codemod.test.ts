import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addWorkerToApp } from '../../generators/worker/codemod.js';
import { codemodFixtureTests, count } from './codemod-fixtures.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/codemod');
const REPORT = { className: 'ReportWorkerWorker', modulePath: './workers/report_worker' };
const read = (...parts: string[]) => readFileSync(path.join(FIXTURES, ...parts), 'utf8');

codemodFixtureTests({
  folder: FIXTURES,
  add: (source) => addWorkerToApp(source, 'src/app.ts', REPORT),
  className: 'ReportWorkerWorker',
  registered: 'ReportWorkerWorker.build(',
});

test('keeps CRLF line endings on every line, the added ones included', () => {
  const result = addWorkerToApp(read('crlf', 'input.ts.txt'), 'src/app.ts', REPORT);
  assert.is(result.text.split('\n').length - 1, count(result.text, '\r\n'));
});

test('reports the line numbers of the added lines in the new text', () => {
  const result = addWorkerToApp(read('class-method', 'input.ts.txt'), 'src/app.ts', REPORT);
  const lines = result.text.split('\n');
  assert.equal(
    result.insertions.map(({ what, line }) => [what, line]),
    [
      ['import', 5],
      ['register', 19],
    ],
  );
  assert.is(lines[4], "import { ReportWorkerWorker } from './workers/report_worker.js';");
  assert.is(lines[18], '    queue.register(ReportWorkerWorker.build(ctx));');
});

test('a second worker goes after the first, in both places', () => {
  const first = addWorkerToApp(read('class-method', 'input.ts.txt'), 'src/app.ts', REPORT).text;
  const second = addWorkerToApp(first, 'src/app.ts', { className: 'MailWorker', modulePath: './workers/mail' }).text;
  const lines = second.split('\n');
  const at = (text: string) => lines.findIndex((line) => line.includes(text));
  assert.is(at("import { MailWorker } from './workers/mail.js';"), at('import { ReportWorkerWorker }') + 1);
  assert.is(at('queue.register(MailWorker.build(ctx));'), at('queue.register(ReportWorkerWorker.build(ctx));') + 1);
});

test('adds only what is missing: the registration when the import is there', () => {
  const input = read('class-method', 'input.ts.txt').replace(
    "import { DownloadWorker } from './workers/downloader.js';",
    "import { DownloadWorker } from './workers/downloader.js';\nimport { ReportWorkerWorker } from './workers/report_worker.js';",
  );
  const result = addWorkerToApp(input, 'src/app.ts', REPORT);
  assert.equal(
    result.insertions.map((insertion) => insertion.what),
    ['register'],
  );
  assert.fixture(result.text, read('class-method', 'expected.ts.txt'));
});

test('adds only what is missing: the import when the worker is registered', () => {
  const input = read('class-method', 'expected.ts.txt').replace(
    "import { ReportWorkerWorker } from './workers/report_worker.js';\n",
    '',
  );
  const result = addWorkerToApp(input, 'src/app.ts', REPORT);
  assert.equal(
    result.insertions.map((insertion) => insertion.what),
    ['import'],
  );
  assert.fixture(result.text, read('class-method', 'expected.ts.txt'));
});

test.run();
