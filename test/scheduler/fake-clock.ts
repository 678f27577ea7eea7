// A clock for the scheduler loop whose time moves only when the test says, firing the loop's
// timers in order and letting it react (claims are async) before moving on.
import type { SchedulerClock } from '../../runtime/src/scheduler/loop.js';

interface Timer {
  at: number;
  resolve(): void;
}

export class FakeClock implements SchedulerClock {
  private readonly timers: Timer[] = [];

  constructor(public time: number) {}

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const onAbort = () => {
        this.timers.splice(this.timers.indexOf(timer), 1);
        resolve();
      };
      const timer: Timer = {
        at: this.time + Math.max(0, ms),
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.timers.push(timer);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Moves time forward by `ms`, firing each timer at its time. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      this.timers.sort((a, b) => a.at - b.at);
      const due = this.timers[0];
      if (!due || due.at > end) break;
      this.timers.shift();
      this.time = Math.max(this.time, due.at);
      due.resolve();
    }
    this.time = end;
    await settle();
  }

  /** Jumps `ms` ahead at once (the process was asleep), then fires the timers that came due. */
  async jump(ms: number): Promise<void> {
    this.time += ms;
    await this.advance(0);
  }
}

/** Lets pending promise chains and I/O callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}
