// The scheduler loop on a fake clock: which times run, where, and when: once per time across
// schedulers sharing a store, no replay of missed times unless catch_up asks, no overlap, late
// wake-ups, run_on_start, store failures and shutdown.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InProcessBackend, type QueueBackend } from '../../runtime/src/internals.js';
import type { JobAction, ScheduledJob } from '../../runtime/src/scheduler/config.js';
import { runSchedulerLoop } from '../../runtime/src/scheduler/loop.js';
import { parseSchedule } from '../../runtime/src/scheduler/schedule.js';
import { recordingLogger } from '../queue/helpers.js';
import { FakeClock, settle } from './fake-clock.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** A whole hour a little ahead of the real time, so the in-process store's hold checks agree with the fake clock. */
const BASE = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3_600_000;

function job(
  name: string,
  schedule: string,
  options: Partial<ScheduledJob> & { action?: JobAction } = {},
): ScheduledJob {
  return {
    name,
    file: 'test.yaml',
    key: `scheduler.jobs.${name}`,
    action: { kind: 'shell', command: 'true' },
    schedule: parseSchedule(schedule, 'UTC', BASE),
    runOnStart: false,
    tags: [],
    output: 'stdout',
    catchUpMs: 0,
    allowOverlap: false,
    ...options,
  };
}

interface Run {
  scheduler: number;
  job: string;
  /** The time it ran for, as seconds after BASE; null for run_on_start. */
  tick: number | null;
  /** When it started, as seconds after BASE. */
  at: number;
}

/** Several schedulers (loops) on one store and one fake clock, recording every run. */
function schedulers(options: {
  count?: number;
  startAt?: number;
  store?: Pick<QueueBackend, 'claimTick'>;
  runMs?: number;
}) {
  const clock = new FakeClock(options.startAt ?? BASE + 300);
  const store = options.store ?? new InProcessBackend();
  const runs: Run[] = [];
  const claims: Array<{ scheduler: number; tick: number; at: number; won: boolean }> = [];
  const lines: string[] = [];
  const stop = new AbortController();
  let active = 0;
  let mostAtOnce = 0;
  const start = (jobs: ScheduledJob[]) =>
    Array.from({ length: options.count ?? 1 }, (_, scheduler) =>
      runSchedulerLoop({
        jobs,
        claimer: {
          claimTick: async (schedule, tickAt, holdMs) => {
            const at = (clock.now() - BASE) / SECOND;
            const won = await store.claimTick(schedule, tickAt, holdMs);
            claims.push({ scheduler, tick: (tickAt - BASE) / SECOND, at, won });
            return won;
          },
        },
        clock,
        signal: stop.signal,
        logger: recordingLogger(lines),
        run: async (ran, tickAt) => {
          runs.push({
            scheduler,
            job: ran.name,
            tick: tickAt === undefined ? null : (tickAt - BASE) / SECOND,
            at: (clock.now() - BASE) / SECOND,
          });
          active += 1;
          mostAtOnce = Math.max(mostAtOnce, active);
          await clock.sleep(options.runMs ?? 0, new AbortController().signal);
          active -= 1;
        },
      }),
    );
  return {
    clock,
    runs,
    claims,
    lines,
    stop,
    start,
    mostAtOnce: () => mostAtOnce,
    /** Stops the loops and lets the runs in progress end. */
    async finish(loops: Promise<void>[]) {
      stop.abort();
      await clock.advance(10 * SECOND);
      await Promise.all(loops);
    },
    ticks: (name?: string) => runs.filter((run) => !name || run.job === name).map((run) => run.tick),
  };
}

test('each time runs once, at its time', async () => {
  const s = schedulers({});
  const loops = s.start([job('tick', 'every 1 second')]);
  await s.clock.advance(10 * SECOND);
  assert.equal(s.ticks(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok(
    s.runs.every((run) => run.at === run.tick),
    'started at its time',
  );
  await s.finish(loops);
});

test('three schedulers on one store fire each time once between them', async () => {
  const s = schedulers({ count: 3 });
  const loops = s.start([job('tick', 'every 1 second'), job('slow', '*/4 * * * * *')]);
  await s.clock.advance(12 * SECOND);
  assert.equal(s.ticks('tick'), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(s.ticks('slow'), [4, 8, 12]);
  await s.finish(loops);
});

test('a time missed while no scheduler ran is not replayed', async () => {
  const s = schedulers({ startAt: BASE + 30 * MINUTE + 10 * SECOND });
  const loops = s.start([job('minutely', 'every minute')]);
  await s.clock.advance(49 * SECOND);
  assert.equal(s.runs, [], 'nothing at start');
  await s.clock.advance(2 * SECOND);
  assert.equal(s.ticks(), [31 * 60]);
  await s.finish(loops);
});

test('catch_up: the latest time missed in the window runs once at start, unless a scheduler had run it', async () => {
  const late = job('minutely', 'every minute', { catchUpMs: 60 * MINUTE });
  const s = schedulers({ startAt: BASE + 30 * MINUTE + 10 * SECOND });
  const loops = s.start([late]);
  await s.clock.advance(0);
  assert.equal(s.ticks(), [30 * 60], 'the latest missed time, once, for all the missed ones');
  assert.equal(s.runs[0].at, 30 * 60 + 10, 'at start');
  assert.ok(s.lines.some((line) => line.includes('missed while no scheduler ran (catch_up)')));
  await s.clock.advance(MINUTE);
  assert.equal(s.ticks(), [30 * 60, 31 * 60]);
  await s.finish(loops);

  const store = new InProcessBackend();
  await store.claimTick('minutely', BASE + 30 * MINUTE, 86_400_000);
  const again = schedulers({ startAt: BASE + 30 * MINUTE + 10 * SECOND, store });
  const more = again.start([late]);
  await again.clock.advance(0);
  assert.equal(again.runs, [], 'another scheduler ran it');
  await again.finish(more);
});

test('no overlap: a run still going skips the next times, with a log line, and no other scheduler takes them', async () => {
  const s = schedulers({ count: 2, runMs: 2500 });
  const loops = s.start([job('backup', 'every 1 second')]);
  await s.clock.advance(10 * SECOND);
  assert.equal(s.ticks(), [1, 4, 7, 10]);
  assert.is(s.mostAtOnce(), 1, 'never two runs at once, in either scheduler');
  const skipped = s.lines.filter((line) => line.includes('skipped its time'));
  assert.is(skipped.length, 6, skipped.join('\n'));
  assert.match(skipped[0], /WARN scheduler: backup: skipped its time \S+:02Z: the run of \S+:01Z is still going/);
  assert.match(skipped[0], 'allow_overlap: true');
  // The scheduler running the job claims its skipped times half a second ahead, before any other can.
  for (const tick of [2, 3, 5, 6, 8, 9]) {
    const winner = s.claims.find((claim) => claim.tick === tick && claim.won);
    const running = s.runs.find((run) => run.tick === Math.floor((tick - 1) / 3) * 3 + 1);
    assert.equal(winner && { scheduler: winner.scheduler, at: winner.at }, {
      scheduler: running?.scheduler,
      at: tick - 0.5,
    });
  }
  await s.finish(loops);
});

test('allow_overlap, and worker jobs: a run starts at every time, beside the one still going', async () => {
  const s = schedulers({ count: 2, runMs: 2500 });
  const enqueue: JobAction = { kind: 'worker', worker: 'ReportWorker', args: {} };
  const loops = s.start([
    job('sync', 'every 1 second', { allowOverlap: true }),
    job('report', 'every 1 second', { action: enqueue }),
  ]);
  await s.clock.advance(5 * SECOND);
  assert.equal(s.ticks('sync'), [1, 2, 3, 4, 5]);
  assert.equal(s.ticks('report'), [1, 2, 3, 4, 5]);
  await s.finish(loops);
});

test('a late wake-up runs the latest passed time once; one that came over a minute ago is left unless catch_up covers it', async () => {
  const s = schedulers({ startAt: BASE + 10 * SECOND });
  const loops = s.start([
    job('tick', 'every 1 second'),
    job('five', 'every 5 minutes'),
    job('five_late', 'every 5 minutes', { catchUpMs: 10 * MINUTE }),
  ]);
  await s.clock.advance(2 * SECOND);
  await s.clock.jump(7 * MINUTE);
  assert.equal(s.ticks('tick'), [11, 12, 7 * 60 + 12], 'the latest second stands for the ones slept through');
  assert.equal(s.ticks('five'), [], 'came 2 min 12 s ago');
  assert.equal(s.ticks('five_late'), [0, 5 * 60], 'with catch_up: also the time 10 s before it started');
  assert.ok(
    s.lines.some((line) => /five: this process did not claim its time \S+:05:00Z: it came 2 min 12 s ago/.test(line)),
    s.lines.join('\n'),
  );
  await s.finish(loops);
});

test('run_on_start runs once at start, then the schedule', async () => {
  const s = schedulers({});
  const loops = s.start([job('warm', 'every minute', { runOnStart: true })]);
  await s.clock.advance(2 * MINUTE);
  assert.equal(s.ticks(), [null, 60, 120]);
  assert.is(s.runs[0].at, 0.3);
  await s.finish(loops);
});

test('a time the store could not claim is skipped with an error line; the next one runs', async () => {
  const store = new InProcessBackend();
  let failures = 1;
  const flaky = {
    claimTick: (schedule: string, tickAt: number, holdMs: number) =>
      failures-- > 0 ? Promise.reject(new Error('connection reset')) : store.claimTick(schedule, tickAt, holdMs),
  };
  const s = schedulers({ store: flaky });
  const loops = s.start([job('tick', 'every 1 second')]);
  await s.clock.advance(3 * SECOND);
  assert.equal(s.ticks(), [2, 3]);
  assert.ok(
    s.lines.some((line) =>
      /ERROR scheduler: tick: could not claim its time \S+ in the store \(connection reset\)/.test(line),
    ),
  );
  await s.finish(loops);
});

test('a schedule with no more times ends its loop with a log line', async () => {
  const year = new Date(BASE).getUTCFullYear() + 1;
  const s = schedulers({ startAt: Date.parse(`${year}-12-31T23:59:58Z`) });
  const [loop] = s.start([job('once', `0 0 0 1 1 * ${year + 1}`)]);
  await s.clock.advance(5 * SECOND);
  await loop;
  assert.is(s.runs.length, 1);
  assert.ok(s.lines.some((line) => line.includes('once: no time after') && line.includes('it will not run again')));
});

test('stopping: no time is claimed after the signal, and the loop waits for the run in progress', async () => {
  const s = schedulers({ runMs: 5 * SECOND });
  const [loop] = s.start([job('backup', 'every 1 second', { allowOverlap: true })]);
  await s.clock.advance(1 * SECOND);
  assert.equal(s.ticks(), [1]);
  s.stop.abort();
  let ended = false;
  loop.then(() => (ended = true));
  await s.clock.advance(2 * SECOND);
  assert.not.ok(ended, 'the run is still going');
  assert.equal(s.ticks(), [1], 'no new time claimed');
  await s.clock.advance(3 * SECOND);
  await settle();
  assert.ok(ended);
});

test.run();
