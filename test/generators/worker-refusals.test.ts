// loco-gen worker checks everything before it writes anything: a run that cannot finish leaves
// the app as it was, and says why and what to do.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateWorker } from '../../generators/worker/index.js';
import { appFolder, fixture } from './app-folder.js';

const CLASS_METHOD = fixture('codemod/class-method', 'input.ts.txt');
const DOWNLOAD_WORKER = `import { BackgroundWorker } from 'loco-runtime';

export class DownloadWorker extends BackgroundWorker<{ userGuid: string }> {
  async perform() {}
}
`;

test('a name whose class the app imports already (download -> DownloadWorker): what clashes, how to pick another name, nothing written', async () => {
  const t = appFolder(CLASS_METHOD, { 'src/workers/downloader.ts': DOWNLOAD_WORKER });
  try {
    const before = t.files();
    assert.is(await generateWorker('download', { cwd: t.root, ...t.printed() }), 1);
    assert.equal(t.files(), before);
    assert.is(t.read('src/app.ts'), CLASS_METHOD);
    const output = t.output();
    assert.match(output, 'The worker class DownloadWorker is taken:');
    assert.match(output, "src/app.ts:4: DownloadWorker is already imported from './workers/downloader.js'");
    assert.match(output, 'src/workers/downloader.ts:3: declares DownloadWorker');
    assert.match(output, 'Pick another name: loco-gen worker <name> makes the class <Name>Worker');
    assert.match(output, 'Nothing was written.');
  } finally {
    t.remove();
  }
});

test('a worker file declaring the class under another file name is a clash even when src/app.ts does not import it', async () => {
  const app = fixture('codemod/empty-hook', 'input.ts.txt');
  const t = appFolder(app, { 'src/workers/downloader.ts': DOWNLOAD_WORKER });
  try {
    const before = t.files();
    assert.is(await generateWorker('download', { cwd: t.root, ...t.printed() }), 1);
    assert.equal(t.files(), before);
    assert.match(t.output(), 'src/workers/downloader.ts:3: declares DownloadWorker');
    assert.not.match(t.output(), 'src/app.ts:');
  } finally {
    t.remove();
  }
});

test('a class of that name declared in src/app.ts itself is a clash', async () => {
  const app = `${CLASS_METHOD}\nclass ReportWorkerWorker {}\n`;
  const t = appFolder(app);
  try {
    assert.is(await generateWorker('report_worker', { cwd: t.root, ...t.printed() }), 1);
    assert.equal(t.files(), ['src/app.ts']);
    assert.match(
      t.output(),
      'src/app.ts:21: ReportWorkerWorker is declared in src/app.ts already (`class ReportWorkerWorker {}`)',
    );
  } finally {
    t.remove();
  }
});

for (const [what, broken, line, message] of [
  [
    "an unclosed 'if (' inside the hook",
    CLASS_METHOD.replace(
      '    queue.register(DownloadWorker.build(ctx));\n',
      '    if (ctx.environment\n    queue.register(DownloadWorker.build(ctx));\n',
    ),
    18,
    "')' expected.",
  ],
  ['a missing closing brace', CLASS_METHOD.replace(/\}\n$/, ''), 19, "'}' expected."],
] as const) {
  test(`a src/app.ts that does not parse (${what}) is not edited: the first error's line and message, nothing written`, async () => {
    const t = appFolder(broken);
    try {
      assert.is(await generateWorker('report_worker', { cwd: t.root, ...t.printed() }), 1);
      assert.is(t.read('src/app.ts'), broken);
      assert.equal(t.files(), ['src/app.ts']);
      assert.match(
        t.output(),
        `src/app.ts:${line}: ${message} src/app.ts does not parse, so it was not edited: fix this error first.`,
      );
      assert.match(t.output(), 'Nothing was written.');
    } finally {
      t.remove();
    }
  });
}

test('a name over 64 characters is refused before anything is written', async () => {
  const t = appFolder(CLASS_METHOD);
  try {
    assert.is(await generateWorker('a'.repeat(250), { cwd: t.root, ...t.printed() }), 1);
    assert.equal(t.files(), ['src/app.ts']);
    assert.match(t.output(), 'it is 250 characters long; a name has at most 64.');
  } finally {
    t.remove();
  }
});

test('a file where a folder must go (tests/workers) is refused before anything is written', async () => {
  const t = appFolder(CLASS_METHOD, { 'tests/workers': 'not a folder\n' });
  try {
    assert.is(await generateWorker('report_worker', { cwd: t.root, ...t.printed() }), 1);
    assert.equal(t.files(), ['src/app.ts', 'tests/workers']);
    assert.is(t.read('src/app.ts'), CLASS_METHOD);
    assert.match(
      t.output(),
      'Cannot write tests/workers/report_worker.test.ts: tests/workers is a file, not a folder.',
    );
    assert.match(t.output(), 'Nothing was written.');
  } finally {
    t.remove();
  }
});

test('a read-only tests/workers folder is refused before anything is written', () => {
  const t = appFolder(CLASS_METHOD, { 'tests/workers/downloader.test.ts': '' });
  try {
    const result = t.command(['worker', 'report_worker'], ['tests/workers']);
    assert.is(result.code, 1, result.output);
    assert.equal(t.files(), ['src/app.ts', 'tests/workers/downloader.test.ts']);
    assert.is(t.read('src/app.ts'), CLASS_METHOD);
    assert.match(
      result.output,
      'Cannot write tests/workers/report_worker.test.ts: no permission to write in tests/workers.',
    );
    assert.match(result.output, 'Nothing was written.');
  } finally {
    t.remove();
  }
});

test('a read-only src/app.ts is refused before anything is written', () => {
  const t = appFolder(CLASS_METHOD);
  try {
    const result = t.command(['worker', 'report_worker'], ['src/app.ts']);
    assert.is(result.code, 1, result.output);
    assert.equal(t.files(), ['src/app.ts']);
    assert.is(t.read('src/app.ts'), CLASS_METHOD);
    assert.match(result.output, 'Cannot write src/app.ts: it is read-only.');
    assert.match(result.output, 'Nothing was written.');
  } finally {
    t.remove();
  }
});

test('a write that fails after the checks: what this run wrote is removed, and it says so', async () => {
  const t = appFolder(CLASS_METHOD);
  try {
    const writeFile = (file: string, text: string) => {
      if (file.endsWith('app.ts'))
        throw Object.assign(new Error(`ENOSPC: no space left on device, open '${file}'`), { code: 'ENOSPC' });
      return t.write(file.slice(t.root.length + 1), text);
    };
    assert.is(await generateWorker('report_worker', { cwd: t.root, ...t.printed(), writeFile }), 1);
    assert.equal(t.files(), ['src/app.ts']);
    assert.is(t.read('src/app.ts'), CLASS_METHOD);
    const output = t.output();
    assert.match(output, 'Could not write src/app.ts: ENOSPC: no space left on device');
    assert.match(
      output,
      'Removed what this run wrote: src/workers/report_worker.ts, tests/workers/report_worker.test.ts.',
    );
  } finally {
    t.remove();
  }
});

test('with --force, a failed write gives the files it replaced their old text back', async () => {
  const t = appFolder(CLASS_METHOD, { 'src/workers/report_worker.ts': '// edited by hand\n' });
  try {
    const writeFile = (file: string, text: string) => {
      if (file.endsWith('app.ts')) throw new Error('EIO: i/o error, write');
      return t.write(file.slice(t.root.length + 1), text);
    };
    assert.is(await generateWorker('report_worker', { cwd: t.root, force: true, ...t.printed(), writeFile }), 1);
    assert.equal(t.files(), ['src/app.ts', 'src/workers/report_worker.ts']);
    assert.is(t.read('src/workers/report_worker.ts'), '// edited by hand\n');
    assert.match(t.output(), 'Removed what this run wrote: tests/workers/report_worker.test.ts.');
    assert.match(t.output(), 'Gave back their old text: src/workers/report_worker.ts.');
  } finally {
    t.remove();
  }
});

test('without a connectWorkers hook: exit 1, the lines to paste, and nothing written', async () => {
  const app = fixture('codemod/no-hook', 'input.ts.txt');
  const t = appFolder(app);
  try {
    assert.is(await generateWorker('report_worker', { cwd: t.root, ...t.printed() }), 1);
    assert.equal(t.files(), ['src/app.ts']);
    const output = t.output();
    assert.match(output, 'src/app.ts: found no connectWorkers hook');
    assert.match(output, "    import { ReportWorkerWorker } from './workers/report_worker.js';");
    assert.match(output, '    queue.register(ReportWorkerWorker.build(ctx));');
    assert.match(
      output,
      'Nothing was written. Add the lines above to src/app.ts (an app without a connectWorkers hook needs one: ' +
        'async connectWorkers(ctx: AppContext, queue: Queue) {}',
    );
  } finally {
    t.remove();
  }
});

test('after pasting the lines by hand, a second run writes the files and leaves src/app.ts alone', async () => {
  const pasted = fixture('codemod/one-parameter', 'input.ts.txt')
    .replace(
      "import { DownloadWorker } from './workers/downloader.js';\n",
      "import { DownloadWorker } from './workers/downloader.js';\nimport { ReportWorkerWorker } from './workers/report_worker.js';\n",
    )
    .replace(
      '    ctx.queue.register(DownloadWorker.build(ctx));\n',
      '    ctx.queue.register(DownloadWorker.build(ctx));\n    ctx.queue.register(ReportWorkerWorker.build(ctx));\n',
    );
  const t = appFolder(pasted);
  try {
    assert.is(await generateWorker('report_worker', { cwd: t.root, ...t.printed() }), 0, t.output());
    assert.is(t.read('src/app.ts'), pasted);
    assert.equal(t.files(), ['src/app.ts', 'src/workers/report_worker.ts', 'tests/workers/report_worker.test.ts']);
  } finally {
    t.remove();
  }
});

test.run();
