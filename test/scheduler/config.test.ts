// Scheduler config: Loco's files read unchanged (section and dedicated file), this runtime's
// additions, and every bad input refused with the file, the job's key and what to do.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { ConfigError, LocoError, loadConfig } from '../../runtime/src/internals.js';
import {
  checkJobTargets,
  loadSchedulerJobs,
  readSchedulerFile,
  readSchedulerSection,
  type ScheduledJob,
  selectJobs,
} from '../../runtime/src/scheduler/config.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'loco-scheduler-config-'));
mkdirSync(path.join(root, 'config'));

/** The `scheduler:` block of Loco's scheduler page, as a user would paste it. */
const LOCO_SECTION = `scheduler:
  # Location of shipping the command stdout and stderr.
  output: stdout
  # A list of jobs to be scheduled.
  jobs:
    # The name of the job.
    write_content:
      # by default false meaning executing the the run value as a task. if true execute the run value as shell command
      shell: true
      # command to run
      run: "echo loco >> ./scheduler.txt"
      # The cron expression that defines the job's schedule.
      schedule: run every 1 second
      output: silent
      tags: ["base", "infra"]

    run_task:
      run: "foo"
      schedule: "at 10:00 am"
      run_on_start: true

    list_if_users:
      run: "user_report"
      shell: true
      schedule: "* 2 * * * *"
      tags: ["base", "users"]
`;

const section = (yaml: string) => readSchedulerSection(parse(yaml).scheduler, 'config/development.yaml', 'scheduler');
const byName = (jobs: ScheduledJob[]) => Object.fromEntries(jobs.map((job) => [job.name, job]));

/** The message of the ConfigError `run` throws. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    assert.instance(err, ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

test("Loco's scheduler: section reads unchanged", () => {
  const jobs = byName(section(LOCO_SECTION));
  assert.equal(Object.keys(jobs), ['write_content', 'run_task', 'list_if_users']);
  const write = jobs.write_content;
  assert.equal(write.action, { kind: 'shell', command: 'echo loco >> ./scheduler.txt' });
  assert.is(write.schedule.cron, '* * * * * *');
  assert.is(write.output, 'silent');
  assert.equal(write.tags, ['base', 'infra']);
  assert.is(write.runOnStart, false);
  assert.equal(jobs.run_task.action, { kind: 'task', task: 'foo', args: [] });
  assert.is(jobs.run_task.schedule.cron, '0 0 10 * * *');
  assert.is(jobs.run_task.runOnStart, true);
  assert.is(jobs.run_task.output, 'stdout', "the section's output");
  assert.is(jobs.list_if_users.schedule.cron, '* 2 * * * *');
  assert.is(jobs.list_if_users.key, 'scheduler.jobs.list_if_users');
  for (const job of Object.values(jobs)) {
    assert.is(job.schedule.timezone, 'UTC');
    assert.is(job.catchUpMs, 0);
    assert.is(job.allowOverlap, false);
  }
});

test("Loco's dedicated file (output: and jobs: at the top) reads unchanged; task args are key:value words", () => {
  const file = path.join(root, 'config/scheduler.yaml');
  writeFileSync(
    file,
    `output: stdout
jobs:
  print_task:
    run: foo LOCO_ENV:test SCHEDULER:true "greeting:hello world"
    schedule: "*/5 * * * * *"
    tags:
      - base
      - echo
  run_on_start_task:
    run: "echo \\"Does this run on start?\\" >> ./run_on_start.txt "
    shell: true
    schedule: "every 24 hours"
    run_on_start: true
`,
  );
  const jobs = byName(readSchedulerFile(file));
  assert.equal(jobs.print_task.action, {
    kind: 'task',
    task: 'foo',
    args: ['LOCO_ENV:test', 'SCHEDULER:true', 'greeting:hello world'],
  });
  assert.is(jobs.print_task.key, 'jobs.print_task');
  assert.is(jobs.run_on_start_task.action.kind, 'shell');
  assert.is(jobs.run_on_start_task.schedule.cron, '0 0 */24 * * *');
});

test('beyond Loco: worker jobs with args, timezone, catch_up and allow_overlap', () => {
  const jobs = byName(
    section(`scheduler:
  jobs:
    nightly_report:
      worker: ReportWorkerWorker
      args: { userGuid: "nightly", pages: [1, 2] }
      schedule: every day at 2:00 am
      timezone: Europe/Paris
      catch_up: 6h
      tags: [reports]
    sync:
      run: sync
      schedule: every 5 minutes
      allow_overlap: true
`),
  );
  assert.equal(jobs.nightly_report.action, {
    kind: 'worker',
    worker: 'ReportWorkerWorker',
    args: { userGuid: 'nightly', pages: [1, 2] },
  });
  assert.is(jobs.nightly_report.schedule.timezone, 'Europe/Paris');
  assert.is(jobs.nightly_report.catchUpMs, 6 * 3_600_000);
  assert.is(jobs.sync.allowOverlap, true);
});

test('bad jobs are refused with the file, the job key and the fix', () => {
  const job = (body: string) => () => section(`scheduler:\n  jobs:\n    backup:\n${body}`);
  const cases: Array<[string, RegExp]> = [
    [
      '      run: backup\n      schedule: every 15 secnds\n',
      /^config\/development\.yaml: scheduler\.jobs\.backup\.schedule: cannot read 'every 15 secnds' as English: .*'secnds'\. Allowed:\n {2}- cron with seconds.*\n {2}- plain cron.*\n {2}- English: every \[N\] second/,
    ],
    [
      '      run: backup\n      schedule: "0 0 0 30 2 *"\n',
      /scheduler\.jobs\.backup\.schedule: '0 0 0 30 2 \*' never fires/,
    ],
    [
      '      shell: true\n      run: ""\n      schedule: every day\n',
      /scheduler\.jobs\.backup\.run: is empty, and shell: true runs it as a command/,
    ],
    ['      shell: true\n      schedule: every day\n', /scheduler\.jobs\.backup\.run: is empty/],
    ['      run: backup\n', /scheduler\.jobs\.backup\.schedule: is missing/],
    [
      '      run: backup\n      schedule: every day\n      schedul: x\n',
      /backup\.schedul: unknown key \(did you mean schedule\?\)/,
    ],
    [
      '      run: backup\n      schedule: every day\n      output: loud\n',
      /backup\.output: found the string 'loud'; allowed: stdout, silent/,
    ],
    ['      run: backup\n      schedule: every day\n      tags: base\n', /backup\.tags: expected a list of tags/],
    [
      '      run: backup\n      schedule: every day\n      run_on_start: "yes"\n',
      /backup\.run_on_start: expected true or false/,
    ],
    [
      '      run: backup\n      schedule: every day\n      timezone: Mars/Olympus\n',
      /backup\.timezone: timezone 'Mars\/Olympus'/,
    ],
    ['      run: backup\n      schedule: every day\n      catch_up: soon\n', /backup\.catch_up: expected how far back/],
    [
      '      run: backup\n      schedule: every day\n      catch_up: 60d\n',
      /backup\.catch_up: is 60d; the longest catch-up window is 31d/,
    ],
    [
      '      run: backup now\n      schedule: every day\n',
      /backup\.run: task args are key:value pairs, as in Loco .* found 'now'/,
    ],
    ['      run: "backup note:\'open"\n      schedule: every day\n', /backup\.run: has an unclosed ' quote/],
    [
      '      worker: BackupWorker\n      run: backup\n      schedule: every day\n',
      /backup\.worker: a job has either worker: .* or run: .*not both/,
    ],
    [
      '      run: backup\n      args: { a: 1 }\n      schedule: every day\n',
      /backup\.args: args: goes with worker: only/,
    ],
    [
      '      worker: BackupWorker\n      args: { n: .nan }\n      schedule: every day\n',
      /backup\.args: BackupWorker: cannot enqueue: args\.n is NaN/,
    ],
  ];
  for (const [body, message] of cases) assert.match(refusal(job(body)), message, body);
  assert.match(
    refusal(() => section('scheduler:\n  output: stdout\n')),
    /scheduler\.jobs: is missing/,
  );
  assert.match(
    refusal(() => section('scheduler:\n  job: {}\n')),
    /scheduler\.job: unknown key \(did you mean jobs\?\)/,
  );
  assert.match(
    refusal(() => section('scheduler:\n  jobs: [a, b]\n')),
    /scheduler\.jobs: expected one entry per job/,
  );
});

test('a job name in both the section and the file is refused, naming both places', () => {
  const file = path.join(root, 'config/dup.yaml');
  writeFileSync(file, 'jobs:\n  write_content:\n    run: "echo again"\n    shell: true\n    schedule: every minute\n');
  const config = { file: 'config/development.yaml', extra: parse(LOCO_SECTION) };
  const message = refusal(() => loadSchedulerJobs({ config, file: 'config/dup.yaml', root }));
  assert.match(
    message,
    `${file}: jobs.write_content: a job named 'write_content' is also defined in config/development.yaml`,
  );
  assert.match(message, '(scheduler.jobs.write_content); job names must be unique');
  const merged = loadSchedulerJobs({ config: { file: 'x.yaml', extra: {} }, file: 'config/dup.yaml', root });
  assert.equal(
    merged.map((job) => job.name),
    ['write_content'],
  );
  assert.match(
    refusal(() => loadSchedulerJobs({ config, file: 'config/absent.yaml', root })),
    /no such scheduler file/,
  );
});

test('unknown tasks and unregistered workers are refused, naming the job and what is registered', () => {
  const jobs = section(`${LOCO_SECTION}    report:
      worker: ReportWorker
      schedule: every day
`);
  const foo = refusal(() => checkJobTargets(jobs, { tasks: ['fooo', 'seed'], workers: ['ReportWorker'] }));
  assert.match(
    foo,
    "scheduler.jobs.run_task.run: names the task 'foo', which the app does not register (did you mean fooo?)",
  );
  assert.match(foo, 'registered tasks: fooo, seed.');
  const worker = refusal(() => checkJobTargets(jobs, { tasks: ['foo'], workers: ['ReportWorkr'] }));
  assert.match(
    worker,
    "scheduler.jobs.report.worker: 'ReportWorker' is not a registered worker (did you mean ReportWorkr?)",
  );
  assert.match(worker, 'queue.register(ReportWorker.build(ctx))');
  checkJobTargets(jobs, { tasks: ['foo'], workers: ['ReportWorker'] });
});

test('--name and --tag pick jobs; a filter matching nothing says what there is', () => {
  const jobs = section(LOCO_SECTION);
  const names = (filter: { name?: string; tag?: string }) => selectJobs(jobs, filter).map((job) => job.name);
  assert.equal(names({ tag: 'base' }), ['write_content', 'list_if_users']);
  assert.equal(names({ tag: 'users' }), ['list_if_users']);
  assert.equal(names({ name: 'run_task' }), ['run_task']);
  assert.equal(names({ name: 'list_if_users', tag: 'users' }), ['list_if_users'], 'both must match');
  assert.throws(
    () => names({ name: 'write_content', tag: 'users' }),
    /No scheduler job is named 'write_content' and tagged 'users'/,
  );
  try {
    selectJobs(jobs, { tag: 'nightly' });
    assert.unreachable('should refuse');
  } catch (err) {
    assert.instance(err, LocoError);
    assert.match(
      (err as Error).message,
      "No scheduler job is tagged 'nightly'. Jobs: write_content, run_task, list_if_users; tags: base, infra, users.",
    );
  }
});

test('loadConfig stops on a bad scheduler: section, like any other bad key', () => {
  writeFileSync(
    path.join(root, 'config/development.yaml'),
    'scheduler:\n  jobs:\n    backup:\n      run: backup\n      schedule: every fortnight\n',
  );
  assert.throws(
    () => loadConfig({ root, environment: 'development' }),
    /scheduler\.jobs\.backup\.schedule: cannot read 'every fortnight'/,
  );
  writeFileSync(path.join(root, 'config/development.yaml'), LOCO_SECTION);
  assert.ok(loadConfig({ root, environment: 'development' }).extra.scheduler, 'kept for the scheduler');
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
