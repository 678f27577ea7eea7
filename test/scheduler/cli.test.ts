// `loco scheduler` and `loco start --all` as a user runs them: real processes in an app folder,
// a real SQLite store. --list, errors at boot that start nothing, and --all running the server,
// a worker and the scheduler (a worker: job enqueued by the scheduler and run by the worker).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exited, ROOT, sleep } from '../queue/helpers.js';

const CLI = path.join(ROOT, 'runtime/src/cli/main.ts');
const TSX = import.meta.resolve('tsx');
const app = mkdtempSync(path.join(os.tmpdir(), 'loco-scheduler-cli-'));
mkdirSync(path.join(app, 'config'));
mkdirSync(path.join(app, 'src'));
writeFileSync(
  path.join(app, 'package.json'),
  JSON.stringify({ name: 'scheduler-cli-test', private: true, type: 'module' }),
);
writeFileSync(
  path.join(app, 'src/app.ts'),
  `import { BackgroundWorker, type AppContext, type Hooks, type Queue } from ${JSON.stringify(path.join(ROOT, 'runtime/src/index.ts'))};

export class ReportWorker extends BackgroundWorker<{ label: string }> {
  async perform(args: { label: string }) { console.log('report ran: ' + args.label); }
}

export class App implements Hooks {
  async connectWorkers(ctx: AppContext, queue: Queue) { queue.register(ReportWorker.build(ctx)); }
  async afterBoot() { console.log('afterBoot ran'); }
}
`,
);
const QUEUE = `workers:\n  mode: BackgroundQueue\nqueue:\n  kind: Sqlite\n  uri: sqlite://queue.sqlite?mode=rwc\n  poll_interval_sec: 0.05\nlogger:\n  format: compact\n`;
writeFileSync(path.join(app, 'config/development.yaml'), QUEUE);
writeFileSync(
  path.join(app, 'config/scheduler.yaml'),
  `output: stdout
jobs:
  heartbeat:
    shell: true
    run: echo beat >> beats.txt
    schedule: run every 1 second
    tags: [infra]
  nightly_report:
    worker: ReportWorker
    args: { label: nightly }
    schedule: every 1 second
    tags: [reports]
`,
);

interface Running {
  child: ChildProcess;
  output: () => string;
}

function loco(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], {
    cwd: app,
    env: { ...process.env, LOCO_ENV: 'development', NO_COLOR: '1', SCHEDULER_CONFIG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

async function waitFor(running: Running, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = running.output().match(pattern);
    if (match) return match;
    if (Date.now() > deadline || running.child.exitCode !== null) {
      throw new Error(`did not see ${pattern}; output:\n${running.output()}`);
    }
    await sleep(20);
  }
}

const beats = () => (existsSync(path.join(app, 'beats.txt')) ? readFileSync(path.join(app, 'beats.txt'), 'utf8') : '');

test('--list shows each job with its next three times, and starts nothing', async () => {
  const run = loco(['scheduler', '--config', 'config/scheduler.yaml', '--list']);
  assert.is(await exited(run.child), 0, run.output());
  const lines = run.output().trim().split('\n');
  assert.match(lines[0], /^# +job_name +run_on_start +schedule +tags +run$/);
  assert.match(
    lines[1],
    /^1 +heartbeat +false +run every 1 second \(\* \* \* \* \* \*\) +infra +shell: echo beat >> beats\.txt$/,
  );
  assert.match(lines[2], /^ {3}next: \S+Z, \S+Z, \S+Z$/);
  assert.match(
    lines[3],
    /^2 +nightly_report +false +every 1 second .* +reports +worker ReportWorker \{"label":"nightly"\}$/,
  );
  assert.is(beats(), '');
});

test('a job naming an unregistered worker stops the scheduler at boot, naming the job; nothing runs', async () => {
  writeFileSync(
    path.join(app, 'config/broken.yaml'),
    'jobs:\n  heartbeat:\n    shell: true\n    run: echo beat >> beats.txt\n    schedule: every 1 second\n  report:\n    worker: ReprotWorker\n    schedule: every 1 second\n',
  );
  const run = loco(['scheduler'], { SCHEDULER_CONFIG: 'config/broken.yaml' });
  assert.is(await exited(run.child), 1);
  assert.match(
    run.output(),
    `error: ${app}/config/broken.yaml: jobs.report.worker: 'ReprotWorker' is not a registered worker (did you mean ReportWorker?)`,
  );
  assert.match(run.output(), 'Nothing was started.');
  assert.not.match(run.output(), 'scheduler started');
  await sleep(1100);
  assert.is(beats(), '');
});

test('no jobs: the error says where jobs go and points at config/scheduler.yaml', async () => {
  const run = loco(['scheduler']);
  assert.is(await exited(run.child), 1);
  assert.match(run.output(), 'No scheduler jobs: ');
  assert.match(run.output(), 'config/scheduler.yaml exists: run loco scheduler --config config/scheduler.yaml');
});

test('--name and --tag pick the jobs that --list shows; a name or tag no job has fails, listing the jobs and tags', async () => {
  const named = loco(['scheduler', '--config', 'config/scheduler.yaml', '--list', '--name', 'nightly_report']);
  const tagged = loco(['scheduler', '-c', 'config/scheduler.yaml', '--list', '-t', 'infra']);
  const unknownName = loco(['scheduler', '--config', 'config/scheduler.yaml', '--list', '--name', 'weekly']);
  const unknownTag = loco(['scheduler', '--config', 'config/scheduler.yaml', '--list', '--tag', 'billing']);
  const codes = await Promise.all([named, tagged, unknownName, unknownTag].map((run) => exited(run.child)));
  assert.equal(codes.slice(0, 2), [0, 0], named.output() + tagged.output());
  const jobNames = (output: string) =>
    output
      .trim()
      .split('\n')
      .slice(1)
      .filter((line) => /^\d+ /.test(line))
      .map((line) => line.split(/ +/)[1]);
  assert.equal(jobNames(named.output()), ['nightly_report'], named.output());
  assert.equal(jobNames(tagged.output()), ['heartbeat'], tagged.output());
  assert.equal(codes.slice(2), [1, 1]);
  assert.match(
    unknownName.output(),
    "No scheduler job is named 'weekly'. Jobs: heartbeat, nightly_report; tags: infra, reports.",
  );
  assert.match(
    unknownTag.output(),
    "No scheduler job is tagged 'billing'. Jobs: heartbeat, nightly_report; tags: infra, reports.",
  );
});

test('--tag runs only the jobs with that tag: the other job never fires', async () => {
  const before = beats();
  const run = loco(['scheduler', '--config', 'config/scheduler.yaml', '--tag', 'reports']);
  try {
    await waitFor(run, /scheduler started: nightly_report;/);
    await waitFor(run, /\[nightly_report\] finished in \d+ ms: enqueued ReportWorker job/);
    // The heartbeat, due every second as well, would have fired in this time.
    await sleep(2_000);
  } finally {
    run.child.kill('SIGTERM');
  }
  assert.is(await exited(run.child), 0, run.output());
  assert.not.match(run.output(), '[heartbeat]');
  assert.is(beats(), before, 'the shell job did not run');
});

test("-e picks the environment's config file and its scheduler: section", async () => {
  writeFileSync(
    path.join(app, 'config/staging.yaml'),
    `${QUEUE}scheduler:\n  jobs:\n    staging_ping:\n      shell: true\n      run: echo staging\n      schedule: every 1 minute\n      tags: [staging]\n`,
  );
  const staging = loco(['scheduler', '-e', 'staging', '--list']);
  const development = loco(['scheduler', '--list']);
  assert.is(await exited(staging.child), 0, staging.output());
  assert.match(staging.output(), /^1 +staging_ping +false +every 1 minute .* +staging +shell: echo staging$/m);
  assert.is(await exited(development.child), 1, 'the default environment (development) has no scheduler jobs');
  assert.match(development.output(), /No scheduler jobs: \S*config\/development\.yaml has no scheduler: section/);
  rmSync(path.join(app, 'config/staging.yaml'));
});

test('start --all runs the server, a worker and the scheduler, after afterBoot', async () => {
  const all = loco(['start', '--all', '-p', '0', '-b', '127.0.0.1'], { SCHEDULER_CONFIG: 'config/scheduler.yaml' });
  const [, url] = await waitFor(all, /listening on (http:\/\/\S+)/);
  await waitFor(all, /report ran: nightly/);
  await waitFor(all, /\[heartbeat\] finished in/);
  const ping = await fetch(`${url}/_ping`);
  assert.is(ping.status, 200);
  all.child.kill('SIGTERM');
  assert.is(await exited(all.child), 0, all.output());
  const output = all.output();
  assert.ok(output.indexOf('afterBoot ran') < output.indexOf('scheduler started: heartbeat, nightly_report'), output);
  assert.match(output, /\[nightly_report\] finished in \d+ ms: enqueued ReportWorker job \w+/);
  assert.ok(beats().includes('beat'));
});

test('--server-and-worker runs no scheduler; afterBoot runs in every mode', async () => {
  const both = loco(['start', '--server-and-worker', '-p', '0', '-b', '127.0.0.1'], {
    SCHEDULER_CONFIG: 'config/scheduler.yaml',
  });
  await waitFor(both, /listening on/);
  await sleep(1500);
  both.child.kill('SIGTERM');
  assert.is(await exited(both.child), 0);
  assert.match(both.output(), 'afterBoot ran');
  assert.not.match(both.output(), 'scheduler started');
  assert.not.match(both.output(), '[heartbeat]');
});

test('start --all with a schedule that never fires stops at boot: nothing listens, nothing runs', async () => {
  writeFileSync(
    path.join(app, 'config/development.yaml'),
    `${QUEUE}scheduler:\n  jobs:\n    leap:\n      shell: true\n      run: echo leap\n      schedule: "0 0 0 30 2 *"\n`,
  );
  const all = loco(['start', '--all', '-p', '0', '-b', '127.0.0.1']);
  assert.is(await exited(all.child), 1);
  assert.match(all.output(), /config\/development\.yaml: scheduler\.jobs\.leap\.schedule: '0 0 0 30 2 \*' never fires/);
  assert.not.match(all.output(), 'listening on');
  writeFileSync(path.join(app, 'config/development.yaml'), QUEUE);
});

test.after(() => rmSync(app, { recursive: true, force: true }));

test.run();
