import type { Logger } from './logger.js';
import type { ClaimedJob } from './queue/backend.js';
import type { RegisteredWorker } from './registry.js';
import { SandboxPool } from './sandbox/pool.js';
import { Watchdog } from './watchdog.js';

/** A job's `perform`, ready to be called with its args and its attempt's signal. */
export type Perform = (args: unknown, signal: AbortSignal) => Promise<void>;

/** Options of `JobRunner`. */
export interface JobRunnerOptions {
  logger: Logger;
  /**
   * Kill the process once its event loop has been blocked this long, in ms; 0 or `undefined`
   * for no watchdog. (config `workers.watchdog_sec`)
   */
  watchdogMs?: number;
}

/**
 * Where a claimed job's `perform` runs: in a thread of the sandbox pool for workers whose
 * `sandbox()` is true, otherwise on the main thread, under the watchdog when there is one. The
 * worker loop makes one per run and closes it when it ends.
 */
export class JobRunner {
  private pool: SandboxPool | undefined;
  private readonly watchdog: Watchdog | undefined;

  constructor(private readonly options: JobRunnerOptions) {
    const ms = options.watchdogMs ?? 0;
    this.watchdog = ms > 0 ? Watchdog.start({ thresholdMs: ms }) : undefined;
  }

  /**
   * Gets `worker` ready to run `job` and returns its `perform`: for a sandboxed worker, once a
   * thread of the pool has loaded its module (so the job's timeout, which starts when the
   * returned function is called, does not count a thread's start); otherwise at once, with the
   * watchdog told which job runs on the main thread. Main-thread workers get theirs without a
   * promise, so the common path costs no extra turn of the microtask queue.
   */
  prepare(worker: RegisteredWorker, job: ClaimedJob): Perform | Promise<Perform> {
    if (worker.sandbox) {
      this.pool ??= new SandboxPool(this.options.logger);
      return this.pool.prepare(worker, worker.sandbox.moduleUrl);
    }
    const watchdog = this.watchdog;
    if (!watchdog) return (args, signal) => worker.instance.perform(args, signal);
    return async (args, signal) => {
      const slot = watchdog.enter(`${job.name} (job ${job.id}, attempt ${job.attempts})`);
      try {
        await worker.instance.perform(args, signal);
      } finally {
        watchdog.leave(slot);
      }
    };
  }

  /** Stops the sandbox threads and the watchdog. */
  async close(): Promise<void> {
    await Promise.all([this.pool?.close(), this.watchdog?.stop()]);
  }
}
