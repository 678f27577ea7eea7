/**
 * The app under test, written as a user would write it: a `BackgroundWorker` subclass registered
 * in `connectWorkers`. Its job body is a no-op that reports the call to the running scenario.
 */
import { type AppContext, BackgroundWorker, type Hooks, type Queue } from '../runtime/src/internals.js';
import { chunks, now, type Payload } from './common.js';

/** What the running scenario wants from the app; set before `boot`. */
export const probe = {
  /** Called at the start of every job with its args. */
  onJob: (_args: Payload): void => {},
  /** Jobs to enqueue inside `connectWorkers`, before an in-process pool starts (async drain). */
  seedInConnectWorkers: [] as Payload[],
  /** Jobs per `performLaterMany` call when seeding. */
  batch: 1000,
  /** When `connectWorkers` finished seeding (`now()`), or 0. */
  seededAt: 0,
};

/** The benchmark's worker: `{ user_guid }` in, nothing done. */
export class BenchWorker extends BackgroundWorker<Payload> {
  async perform(args: Payload): Promise<void> {
    probe.onJob(args);
  }
}

/** A worker whose jobs the `blocked` scenario queues ahead of the others, then pauses. */
export class PausedWorker extends BackgroundWorker<Payload> {
  async perform(): Promise<void> {}
}

/** The benchmark's app. */
export class App implements Hooks {
  appName = 'loco-bench';

  async connectWorkers(ctx: AppContext, queue: Queue): Promise<void> {
    queue.register(BenchWorker.build(ctx));
    queue.register(PausedWorker.build(ctx));
    if (probe.seedInConnectWorkers.length === 0) return;
    for (const batch of chunks(probe.seedInConnectWorkers, probe.batch)) {
      await BenchWorker.performLaterMany(ctx, batch);
    }
    probe.seededAt = now();
  }
}
