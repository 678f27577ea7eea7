import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WorkerNameError, workerNames } from '../../generators/worker/names.js';

for (const spelling of ['report_worker', 'reportWorker', 'ReportWorker', 'report-worker', '  report_worker  ']) {
  test(`accepts ${JSON.stringify(spelling)} as report_worker / ReportWorkerWorker (Loco's naming)`, () => {
    assert.equal(workerNames(spelling), {
      fileName: 'report_worker',
      className: 'ReportWorkerWorker',
      argsName: 'ReportWorkerWorkerArgs',
    });
  });
}

test('keeps digits and splits acronyms', () => {
  assert.equal(workerNames('report2pdf'), {
    fileName: 'report2pdf',
    className: 'Report2pdfWorker',
    argsName: 'Report2pdfWorkerArgs',
  });
  assert.is(workerNames('HTTPFetch').fileName, 'http_fetch');
  assert.is(workerNames('HTTPFetch').className, 'HttpFetchWorker');
  assert.is(workerNames('download').className, 'DownloadWorker');
});

const refused: Array<[string, string]> = [
  ['', 'the name is empty'],
  ['   ', 'the name is empty'],
  ['report worker', 'contains spaces'],
  ['../x', 'is a path'],
  ['workers/report', 'is a path'],
  ['..', 'is a path'],
  ['123abc', 'starts with a digit'],
  ['123', 'starts with a digit'],
  ['_report', "starts with '_'"],
  ['class', 'reserved word'],
  ['Class', 'reserved word'],
  ['function', 'reserved word'],
  ['await', 'reserved word'],
  ['enum', 'reserved word'],
  ['report.worker', "'.' cannot appear"],
  ['report$', "'$' cannot appear"],
];

for (const [name, reason] of refused) {
  test(`refuses ${JSON.stringify(name)}: ${reason}`, () => {
    let caught: unknown;
    try {
      workerNames(name);
    } catch (error) {
      caught = error;
    }
    assert.instance(caught, WorkerNameError);
    const message = (caught as Error).message;
    assert.ok(message.includes(reason), message);
    assert.ok(message.startsWith(`Invalid worker name ${JSON.stringify(name)}:`), message);
    assert.ok(message.endsWith('such as report_worker.'), message);
  });
}

test.run();
