// `loco-gen scheduler`: a commented config/scheduler.yaml that the runtime reads as it is, whose
// commented examples are valid jobs too, never overwritten without --force.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { generateScheduler, SCHEDULER_FILE } from '../../generators/scheduler/index.js';
import { checkJobTargets, readSchedulerFile, readSchedulerSection } from '../../runtime/src/scheduler/config.js';

/** An app folder with config/, and a way to run `loco-gen scheduler` in it. */
function app(options: { config?: boolean } = {}) {
  const root = mkdtempSync(path.join(tmpdir(), 'loco-gen-scheduler-'));
  if (options.config !== false) mkdirSync(path.join(root, 'config'));
  const lines: string[] = [];
  const file = path.join(root, SCHEDULER_FILE);
  return {
    file,
    read: () => readFileSync(file, 'utf8'),
    output: () => stripVTControlCharacters(lines.join('\n')),
    generate: (flags: { force?: boolean; dryRun?: boolean } = {}) => {
      lines.length = 0;
      const push = (line: string) => lines.push(line);
      return generateScheduler({ cwd: root, log: push, error: push, ...flags });
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

test('writes config/scheduler.yaml, which the scheduler reads as it is, showing every key and the grammar', async () => {
  const t = app();
  try {
    assert.is(await t.generate(), 0);
    assert.match(t.output(), 'create  config/scheduler.yaml');
    assert.match(t.output(), 'npx loco scheduler --config config/scheduler.yaml --list');
    const jobs = readSchedulerFile(t.file);
    checkJobTargets(jobs, { tasks: [], workers: [] });
    assert.equal(
      jobs.map((job) => [job.name, job.action.kind, job.schedule.cron, job.output]),
      [['write_content', 'shell', '* * * * * *', 'silent']],
    );
    const text = t.read();
    for (const key of ['output:', 'shell:', 'run:', 'schedule:', 'tags:', 'run_on_start:', 'allow_overlap:']) {
      assert.match(text, `\n    ${key}`, key);
    }
    for (const key of ['worker:', 'args:', 'timezone:', 'catch_up:']) assert.match(text, `#   ${key}`, key);
    for (const form of [
      'sec min hour day-of-month month day-of-week [year]',
      'every [N] second(s)',
      'at 10:00 am',
      'monday through friday',
      'on the 1st and 15th',
      'between 6:00 am and 8:00 pm',
    ]) {
      assert.match(text, form);
    }
  } finally {
    t.remove();
  }
});

test('its commented task and worker jobs, uncommented, are valid jobs', async () => {
  const t = app();
  try {
    await t.generate();
    const uncommented = t.read().replace(/^ {2}# ([a-z_]+:.*| {2}.*)$/gm, '  $1');
    const jobs = readSchedulerSection(parse(uncommented), t.file, '');
    checkJobTargets(jobs, { tasks: ['foo'], workers: ['ReportWorkerWorker'] });
    assert.equal(
      jobs.map((job) => job.name),
      ['write_content', 'run_task', 'nightly_report'],
    );
    const nightly = jobs[2];
    assert.equal(nightly.action, { kind: 'worker', worker: 'ReportWorkerWorker', args: { userGuid: 'nightly' } });
    assert.is(nightly.schedule.timezone, 'Europe/Paris');
    assert.is(nightly.catchUpMs, 6 * 3_600_000);
    assert.equal(jobs[1].action, { kind: 'task', task: 'foo', args: ['year:2024', 'format:csv'] });
  } finally {
    t.remove();
  }
});

test('an existing file is refused without --force, and overwritten with it', async () => {
  const t = app();
  try {
    writeFileSync(t.file, 'jobs: {}\n');
    assert.is(await t.generate(), 1);
    assert.match(t.output(), 'config/scheduler.yaml exists; it was left as it is. --force overwrites it.');
    assert.is(t.read(), 'jobs: {}\n');
    assert.is(await t.generate({ force: true }), 0);
    assert.match(t.output(), 'overwrite  config/scheduler.yaml');
    assert.match(t.read(), 'write_content:');
  } finally {
    t.remove();
  }
});

test('--dry-run writes nothing; outside an app it says where to run it', async () => {
  const t = app();
  try {
    assert.is(await t.generate({ dryRun: true }), 0);
    assert.match(t.output(), 'would create  config/scheduler.yaml');
    assert.match(t.output(), 'Dry run: nothing was written.');
    assert.not.ok(existsSync(t.file));
  } finally {
    t.remove();
  }
  const bare = app({ config: false });
  try {
    assert.is(await bare.generate(), 1);
    assert.match(bare.output(), 'No config/ folder in');
    assert.match(bare.output(), 'Run loco-gen scheduler in the root folder of an app made by create-loco-app.');
  } finally {
    bare.remove();
  }
});

test.run();
