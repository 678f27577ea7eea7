/**
 * A wake-up flag for idle worker loops. `notify()` before `wait()` is remembered, so a job
 * enqueued between an empty claim and the wait is not slept through.
 */
export class Wakeup {
  private pending = false;
  private waiters = new Set<() => void>();

  /** Wakes every waiting loop, or the next one to wait. */
  notify(): void {
    if (this.waiters.size === 0) {
      this.pending = true;
      return;
    }
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves on `notify()`, after `timeoutMs`, or when `signal` aborts. */
  wait(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.pending || signal.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }
}
