// Three `loco scheduler` processes on one store (a SQLite file, a Postgres schema, a Redis
// prefix), a job scheduled every second for ten seconds: each time fires exactly once, and
// after SIGKILL of the process that fired the latest time, the next times still fire.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { exited, ROOT, sleep } from '../queue/helpers.js';
import { postgresStore, redisStore, sqliteStore, type TestStore } from '../stores.js';

const CLI = path.join(ROOT, 'runtime/src/cli/main.ts');
const TSX = import.meta.resolve('tsx');
const PROCESSES = 3;

/** An app folder whose scheduler appends `<time> <pid of the scheduler>` to ticks.txt every second. */
function makeApp(store: TestStore): string {
  const app = mkdtempSync(path.join(os.tmpdir(), `loco-scheduler-${store.name}-`));
  mkdirSync(path.join(app, 'config'));
  mkdirSync(path.join(app, 'src'));
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'scheduler-test', private: true, type: 'module' }),
  );
  writeFileSync(
    path.join(app, 'src/app.ts'),
    `import type { Hooks } from ${JSON.stringify(path.join(ROOT, 'runtime/src/index.ts'))};\n` +
      'export const App: Hooks = { connectWorkers() {} };\n',
  );
  writeFileSync(
    path.join(app, 'config/development.yaml'),
    `workers:
  mode: BackgroundQueue
queue:
  kind: ${store.kind}
  uri: "${store.fresh()}"
logger:
  format: compact
scheduler:
  output: silent
  jobs:
    tick:
      shell: true
      run: echo "$LOCO_SCHEDULER_TICK $PPID" >> ticks.txt
      schedule: every 1 second
`,
  );
  return app;
}

interface Scheduler {
  child: ChildProcess;
  output: () => string;
}

function startScheduler(app: string): Scheduler {
  const child = spawn(process.execPath, ['--import', TSX, CLI, 'scheduler'], {
    cwd: app,
    env: { ...process.env, LOCO_ENV: 'development', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

async function waitFor(what: string, until: () => boolean, timeoutMs: number, details: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!until()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms:\n${details()}`);
    await sleep(20);
  }
}

/** The lines of ticks.txt: each run's scheduled time and the pid of the scheduler that ran it. */
function runsIn(app: string): Array<{ tick: number; pid: number }> {
  const file = path.join(app, 'ticks.txt');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [tick, pid] = line.split(' ');
      return { tick: Date.parse(tick) / 1000, pid: Number(pid) };
    });
}

for (const store of [sqliteStore('sched'), postgresStore('sched'), redisStore('sched')]) {
  const test = suite(`scheduler processes: ${store.name}`);

  test(`${PROCESSES} schedulers on one store: every second fires once; SIGKILL of the last one to fire stops nothing`, async () => {
    const app = makeApp(store);
    const schedulers = Array.from({ length: PROCESSES }, () => startScheduler(app));
    const all = () => schedulers.map((s, n) => `--- scheduler ${n} (pid ${s.child.pid}):\n${s.output()}`).join('\n');
    try {
      await waitFor(
        'all schedulers starting',
        () => schedulers.every((s) => s.output().includes('scheduler started: tick; times claimed in')),
        30_000,
        all,
      );
      // Six seconds, then kill the process that fires the next time, as soon as it has.
      await sleep(6000);
      const seen = runsIn(app).length;
      await waitFor('another run', () => runsIn(app).length > seen, 3000, all);
      const fired = runsIn(app).at(-1)!;
      const victim = schedulers.find((s) => s.child.pid === fired.pid);
      assert.ok(victim, `the run of ${fired.tick} came from one of the schedulers (pid ${fired.pid})`);
      victim!.child.kill('SIGKILL');
      await exited(victim!.child);
      await sleep(4000);
      const survivors = schedulers.filter((s) => s !== victim);
      for (const s of survivors) s.child.kill('SIGTERM');
      for (const s of survivors) assert.is(await exited(s.child), 0, all());

      const runs = runsIn(app);
      const ticks = runs.map((run) => run.tick);
      const counts = new Map<number, number>();
      for (const tick of ticks) counts.set(tick, (counts.get(tick) ?? 0) + 1);
      assert.equal(
        [...counts].filter(([, count]) => count > 1),
        [],
        'no time fired twice',
      );
      const first = Math.min(...ticks);
      const last = Math.max(...ticks);
      assert.is(counts.size, last - first + 1, `no time left out between the first and the last: ${ticks.join(' ')}`);
      assert.ok(last - first >= 9, `about ten seconds of times: ${ticks.join(' ')}`);
      const after = runs.filter((run) => run.tick > fired.tick);
      assert.ok(after.length >= 3, `times after the kill fired: ${after.map((run) => run.tick).join(' ')}`);
      assert.not.ok(
        after.some((run) => run.pid === fired.pid),
        'none from the killed process',
      );
    } finally {
      for (const s of schedulers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
      await Promise.all(schedulers.map((s) => exited(s.child)));
      await store.drop();
      rmSync(app, { recursive: true, force: true });
    }
  });

  test.run();
}
