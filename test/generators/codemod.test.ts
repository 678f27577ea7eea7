import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AppEditError } from '../../generators/shared/codemod.js';
import { addWorkerToApp, CodemodError } from '../../generators/worker/codemod.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/codemod');
const REPORT = { className: 'ReportWorkerWorker', modulePath: './workers/report_worker' };
const read = (...parts: string[]) => readFileSync(path.join(FIXTURES, ...parts), 'utf8');
const count = (text: string, part: string) => text.split(part).length - 1;

// Each fixture folder holds input.ts.txt and one of: expected.ts.txt (the whole file after the
// codemod), error.txt (the whole message of the CodemodError it throws, with the lines to paste),
// or refused.txt (the whole message of an error without lines to paste: a syntax error, a clash).
for (const name of readdirSync(FIXTURES).filter((entry) => existsSync(path.join(FIXTURES, entry, 'input.ts.txt')))) {
  const input = read(name, 'input.ts.txt');
  if (existsSync(path.join(FIXTURES, name, 'expected.ts.txt'))) {
    const expected = read(name, 'expected.ts.txt');

    test(`${name}: adds the import and the registration, nothing else`, () => {
      const result = addWorkerToApp(input, 'src/app.ts', REPORT);
      assert.fixture(result.text, expected);
      assert.equal(
        result.insertions.map((insertion) => insertion.what),
        ['import', 'register'],
      );
    });

    test(`${name}: applied twice gives one import and one call`, () => {
      const once = addWorkerToApp(input, 'src/app.ts', REPORT).text;
      const twice = addWorkerToApp(once, 'src/app.ts', REPORT);
      assert.is(twice.text, once);
      assert.equal(twice.insertions, []);
      assert.is(count(twice.text, 'import { ReportWorkerWorker }'), 1);
      assert.is(count(twice.text, 'ReportWorkerWorker.build('), 1);
    });
  } else if (existsSync(path.join(FIXTURES, name, 'error.txt'))) {
    const expected = read(name, 'error.txt').trimEnd();

    test(`${name}: refuses, naming the file and the construct, with the lines to paste`, () => {
      const caught = thrownBy(() => addWorkerToApp(input, 'src/app.ts', REPORT));
      assert.instance(caught, CodemodError);
      assert.fixture((caught as CodemodError).message, expected);
      const [importLine, registerLine] = (caught as CodemodError).pasteLines;
      assert.ok(expected.includes(`    ${importLine}\n`));
      assert.ok(expected.endsWith(`    ${registerLine}`));
    });
  } else {
    const expected = read(name, 'refused.txt').trimEnd();

    test(`${name}: refuses to edit the file, naming the line and the problem`, () => {
      const caught = thrownBy(() => addWorkerToApp(input, 'src/app.ts', REPORT));
      assert.instance(caught, AppEditError);
      assert.not.instance(caught, CodemodError);
      assert.fixture((caught as Error).message, expected);
    });
  }
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

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
