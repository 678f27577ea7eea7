import type { Logger } from './logger.js';
import type { ClaimedJob } from './queue/backend.js';
import type { RegisteredWorker } from './registry.js';
import { SandboxPool } from './sandbox/pool.js';
import { Watchdog } from './watchdog.js';

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

  /** Runs `worker`'s `perform` for `job` with `args`; `signal` aborts on the attempt's timeout. */
  async perform(worker: RegisteredWorker, job: ClaimedJob, args: unknown, signal: AbortSignal): Promise<void> {
    if (worker.sandbox) {
      this.pool ??= new SandboxPool(this.options.logger);
      return this.pool.run(worker, worker.sandbox.moduleUrl, args, signal);
    }
    if (!this.watchdog) return worker.instance.perform(args, signal);
    const key = `${job.id}#${job.attempts}`;
    this.watchdog.enter(key, `${job.name} (job ${job.id}, attempt ${job.attempts})`);
    try {
      await worker.instance.perform(args, signal);
    } finally {
      this.watchdog.leave(key);
    }
  }

  /** Stops the sandbox threads and the watchdog. */
  async close(): Promise<void> {
    await Promise.all([this.pool?.close(), this.watchdog?.stop()]);
  }
}
