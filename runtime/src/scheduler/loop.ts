/**
 * The scheduler's loop: for each job, wait for its next time, claim that time in the store, and
 * run the job when this process won it. Every process computes the same times from the same
 * schedule, and the store hands each (job, time) to one claimer (`QueueBackend.claimTick`), so
 * any number of scheduler processes on one store fire each time once. A process that dies holds
 * only the time it had claimed; the next time is a new claim.
 *
 * - Several times passed at once (the process was busy or asleep, or is catching up at start):
 *   the latest stands for them all, one run.
 * - A time more than `LATE_LIMIT_MS` late is missed, unless the job's `catch_up` reaches back
 *   that far; at start, `catch_up` runs the latest time in its window that no process claimed.
 * - No overlap (unless `allow_overlap`): a process still running a shell or task job claims the
 *   job's next time a moment before it comes, ahead of the other processes, and skips it with a
 *   log line, so no other process runs the job beside it either.
 */
import type { Logger } from '../logger.js';
import type { QueueBackend } from '../queue/backend.js';
import { sleep } from '../sleep.js';
import type { ScheduledJob } from './config.js';
import { formatDuration, formatTick } from './output.js';
import type { RunJob } from './runner.js';

/** Where the loop gets the time and waits; tests pass a fake one. */
export interface SchedulerClock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** The system clock and timers. */
export const systemClock: SchedulerClock = { now: () => Date.now(), sleep };

/** A time claimed later than this after it came is missed, unless the job's `catch_up` is longer. */
export const LATE_LIMIT_MS = 60_000;
/** Tick claims are kept at least this long (longer with `catch_up`), then pruned by the store. */
export const MIN_HOLD_MS = 86_400_000;
/** At most this long before its next time, a process still running a job claims that time to skip it. */
const RESERVE_LEAD_MS = 1000;

/** Options of `runSchedulerLoop`. */
export interface SchedulerLoopOptions {
  jobs: ScheduledJob[];
  /** The store the times are claimed in: the app's queue store, shared by every scheduler process. */
  claimer: Pick<QueueBackend, 'claimTick'>;
  /** Runs a job once; see `jobRunner`. */
  run: RunJob;
  /** Stops the loop: no time is claimed after it aborts; runs in progress are waited for. */
  signal: AbortSignal;
  logger: Logger;
  /** (Default: the system clock) */
  clock?: SchedulerClock;
}

/** Runs the jobs on their schedules until `signal` aborts, then resolves once their runs have ended. */
export async function runSchedulerLoop(options: SchedulerLoopOptions): Promise<void> {
  const runs = new Set<Promise<void>>();
  await Promise.all(options.jobs.map((job) => jobLoop(job, options, runs)));
  await Promise.all([...runs]);
}

async function jobLoop(job: ScheduledJob, options: SchedulerLoopOptions, runs: Set<Promise<void>>): Promise<void> {
  const { schedule, name } = job;
  const { signal, logger } = options;
  const clock = options.clock ?? systemClock;
  const holdMs = Math.max(MIN_HOLD_MS, job.catchUpMs + LATE_LIMIT_MS);
  const noOverlap = job.action.kind !== 'worker' && !job.allowOverlap;
  let active = 0;
  let lastStart = '';
  const start = (tickAt: number | undefined) => {
    active += 1;
    lastStart = tickAt === undefined ? 'run_on_start' : formatTick(tickAt);
    const run: Promise<void> = options
      .run(job, tickAt)
      .catch((err: unknown) => logger.error(`scheduler: ${name}: the run of ${lastStart} failed: ${String(err)}`))
      .finally(() => {
        active -= 1;
        runs.delete(run);
      });
    runs.add(run);
  };
  const busy = () => noOverlap && active > 0;

  if (job.runOnStart) start(undefined);
  const startedAt = clock.now();
  // Times after `after` are still to be considered.
  let after = startedAt - job.catchUpMs;
  while (!signal.aborted) {
    const next = schedule.next(after);
    if (next === null) {
      logger.info(
        `scheduler: ${name}: no time after ${formatTick(after)} matches '${schedule.text}'; it will not run again.`,
      );
      return;
    }
    const now = clock.now();
    if (now < next) {
      const lead = Math.min(RESERVE_LEAD_MS, (next - after) / 2);
      const wakeAt = busy() ? next - lead : next;
      if (now < wakeAt) {
        // Woken early or late, the loop looks again: the run in progress may have ended meanwhile.
        await clock.sleep(wakeAt - now, signal);
        continue;
      }
    }
    const tick = Math.max(next, schedule.previous(clock.now()) ?? next);
    after = tick;
    const late = clock.now() - tick;
    if (late > Math.max(LATE_LIMIT_MS, job.catchUpMs)) {
      logger.warn(
        `scheduler: ${name}: this process did not claim its time ${formatTick(tick)}: it came ${formatDuration(late)} ` +
          'ago (the process was busy or asleep). Set catch_up on the job to run such times late.',
      );
      continue;
    }
    let won: boolean;
    try {
      won = await options.claimer.claimTick(name, tick, holdMs);
    } catch (err) {
      logger.error(
        `scheduler: ${name}: could not claim its time ${formatTick(tick)} in the store (${(err as Error).message}); ` +
          'that time is skipped.',
      );
      continue;
    }
    if (!won) continue;
    if (busy()) {
      logger.warn(
        `scheduler: ${name}: skipped its time ${formatTick(tick)}: the run of ${lastStart} is still going ` +
          '(set allow_overlap: true on the job to run them side by side).',
      );
      continue;
    }
    if (tick < startedAt) {
      logger.info(
        `scheduler: ${name}: running its time ${formatTick(tick)}, missed while no scheduler ran (catch_up).`,
      );
    }
    const early = tick - clock.now();
    if (early > 0) {
      // Claimed ahead while a run was going, which has ended: the run waits for its time.
      await clock.sleep(early, signal);
      if (signal.aborted) break;
    }
    start(tick);
  }
}
