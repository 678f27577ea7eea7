// The fast path of loco-gen's edit of src/app.ts must give what the ts-morph codemod gives, or
// nothing (and leave the file to the codemod): checked over both hooks' fixtures and a new app.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mentions, quickAppImportLine, quickEdit } from '../../generators/shared/quick-edit.js';
import { taskRegistration } from '../../generators/task/registration.js';
import { addWorkerToApp } from '../../generators/worker/codemod.js';
import { workerRegistration } from '../../generators/worker/registration.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const REPORT = { className: 'ReportWorkerWorker', modulePath: './workers/report_worker' };
const suites = [
  { folder: path.join(FIXTURES, 'codemod'), registration: workerRegistration(REPORT) },
  {
    folder: path.join(FIXTURES, 'codemod-tasks'),
    registration: taskRegistration({ className: 'CleanupTask', modulePath: './tasks/cleanup' }),
  },
];

for (const { folder, registration } of suites) {
  for (const name of readdirSync(folder).filter((entry) => existsSync(path.join(folder, entry, 'input.ts.txt')))) {
    const input = readFileSync(path.join(folder, name, 'input.ts.txt'), 'utf8');
    const expectedFile = path.join(folder, name, 'expected.ts.txt');
    test(`${path.basename(folder)}/${name}: the fast path gives the codemod's text, or leaves the file to it`, () => {
      const quick = quickEdit(input, registration);
      if (quick === undefined) return;
      assert.ok(existsSync(expectedFile), `the fast path edited a file the codemod refuses:\n${quick.text}`);
      assert.fixture(quick.text, readFileSync(expectedFile, 'utf8'));
    });
  }
}

test('the shapes create-loco-app writes take the fast path, with the codemod line numbers', () => {
  const input = readFileSync(path.join(FIXTURES, 'codemod/class-method/input.ts.txt'), 'utf8');
  const quick = quickEdit(input, workerRegistration(REPORT));
  assert.ok(quick, 'class-method takes the fast path');
  assert.equal(quick.insertions, addWorkerToApp(input, 'src/app.ts', REPORT).insertions);
  const crlf = readFileSync(path.join(FIXTURES, 'codemod/crlf/input.ts.txt'), 'utf8');
  const quickCrlf = quickEdit(crlf, workerRegistration(REPORT));
  assert.ok(quickCrlf, 'crlf takes the fast path');
  assert.is(quickCrlf.text.split('\n').length, quickCrlf.text.split('\r\n').length);
});

test("a new app's src/app.ts takes the fast path", async () => {
  const { default: handlebars } = await import('handlebars');
  const template = readFileSync(path.join(FIXTURES, '../../templates/app/src/app.ts.hbs'), 'utf8');
  const source = handlebars.compile(template)({ name: 'my-app', backgroundIs: { queue: true } });
  const quick = quickEdit(source, workerRegistration(REPORT));
  assert.ok(quick, `the fast path declined:\n${source}`);
  assert.is(quick.text, addWorkerToApp(source, 'src/app.ts', REPORT).text);
});

test('a file naming the class, a hook twice, or a file that does not parse is left to the codemod', () => {
  const input = readFileSync(path.join(FIXTURES, 'codemod/class-method/input.ts.txt'), 'utf8');
  const registration = workerRegistration(REPORT);
  assert.is(quickEdit(`${input}\n// ReportWorkerWorker later\n`, registration), undefined);
  assert.is(quickEdit(`${input}\nconst connectWorkers = 1;\n`, registration), undefined);
  assert.is(quickEdit(`${input}\nconst broken = ;\n`, registration), undefined);
});

test('mentions finds whole words only; quickAppImportLine answers only for a named App', () => {
  assert.ok(mentions('export class ReportWorker {}', 'ReportWorker'));
  assert.not.ok(mentions('export class ReportWorkerWorker {}', 'ReportWorker'));
  assert.is(quickAppImportLine('export class App {}'), "import { App } from '../../src/app.js';");
  assert.is(quickAppImportLine('export default class {}'), undefined);
});

test.run();
