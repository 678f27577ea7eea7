// The built-in logger as an app gets it from boot: an app process whose config says
// `logger: format: json`, run as a child so that its stdout holds nothing but the log lines.
// Checks pino's JSON lines and that LOG_LEVEL wins over the config's logger.level.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const RUNTIME = fileURLToPath(new URL('../runtime/src/index.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const root = mkdtempSync(path.join(os.tmpdir(), 'loco-logger-'));
mkdirSync(path.join(root, 'config'));
writeFileSync(
  path.join(root, 'config/test.yaml'),
  'logger:\n  enable: true\n  level: warn\n  format: json\nworkers:\n  mode: BackgroundAsync\n',
);

/** Boots an app in `root` and logs one line at each level (a child logger's line with a binding). */
const APP = `import { boot } from ${JSON.stringify(RUNTIME)};
class App {
  appName = 'logger-app';
  async connectWorkers() {}
}
const booted = await boot(App, { environment: 'test', root: ${JSON.stringify(root)} });
const { logger } = booted.ctx;
logger.trace('a trace line');
logger.debug({ step: 1 }, 'a debug line');
logger.info('an info line');
logger.warn({ jobId: '01J0000000000000000000000', attempt: 2 }, 'a warn line');
logger.child({ worker: 'ReportWorker' }).error('an error line');
await booted.shutdown();
`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runApp(env: Record<string, string | undefined>): Run {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete childEnv[key];
  const result = spawnSync(process.execPath, ['--import', TSX, '--input-type=module', '-e', APP], {
    cwd: root,
    env: childEnv,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every stdout line parsed as JSON; fails naming a line that is not one JSON object. */
function jsonLines(run: Run): Array<Record<string, unknown>> {
  assert.is(run.status, 0, `the app ran (stderr: ${run.stderr})`);
  const lines = run.stdout.split('\n').filter((line) => line !== '');
  return lines.map((line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      assert.unreachable(`every line is one JSON object; found: ${line}`);
    }
    assert.ok(parsed && typeof parsed === 'object' && !Array.isArray(parsed), `a JSON object: ${line}`);
    return parsed as Record<string, unknown>;
  });
}

/** The lines the app logged itself, as `[level, msg]`. */
const ours = (lines: Array<Record<string, unknown>>) =>
  lines.filter((line) => / line$/.test(String(line.msg))).map((line) => [line.level, line.msg]);

test('format json: one JSON object per line with level, time, pid, name, the fields and msg; logger.level drops the rest', () => {
  const started = Date.now();
  const lines = jsonLines(runApp({ LOG_LEVEL: undefined }));
  const ended = Date.now();
  assert.equal(ours(lines), [
    [40, 'a warn line'],
    [50, 'an error line'],
  ]);
  for (const line of lines) {
    assert.type(line.level, 'number');
    assert.type(line.msg, 'string');
    assert.ok(
      typeof line.time === 'number' && line.time >= started && line.time <= ended,
      `time is ms since the epoch, now: ${line.time}`,
    );
    assert.is(line.name, 'logger-app', "name is the app's name");
    assert.type(line.pid, 'number');
    assert.ok((line.level as number) >= 40, `nothing below logger.level warn: ${JSON.stringify(line)}`);
  }
  const warn = lines.find((line) => line.msg === 'a warn line')!;
  assert.equal([warn.jobId, warn.attempt], ['01J0000000000000000000000', 2], 'the fields are on the line');
  assert.is(lines.find((line) => line.msg === 'an error line')!.worker, 'ReportWorker', "a child logger's binding");
});

test('LOG_LEVEL wins over logger.level, in any case; a LOG_LEVEL that is no level stops boot, naming it', () => {
  const debug = jsonLines(runApp({ LOG_LEVEL: 'debug' }));
  assert.equal(ours(debug), [
    [20, 'a debug line'],
    [30, 'an info line'],
    [40, 'a warn line'],
    [50, 'an error line'],
  ]);
  assert.is(debug.find((line) => line.msg === 'a debug line')!.step, 1);
  assert.equal(ours(jsonLines(runApp({ LOG_LEVEL: 'ERROR' }))), [[50, 'an error line']]);

  const wrong = runApp({ LOG_LEVEL: 'loud' });
  assert.is.not(wrong.status, 0);
  assert.match(
    wrong.stderr,
    /LOG_LEVEL.*the environment variable is 'loud'; use one of trace, debug, info, warn, error/,
  );
  assert.not.match(wrong.stdout, 'line', 'nothing was logged');
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
