/**
 * Flow control inside the claim, stated once for the stores that pick jobs in JavaScript (SQLite
 * and in-process): how many more jobs of each name (and concurrency key) a claim may take, from
 * what is running and what started in the rate window. Postgres and Redis apply the same rules in
 * their claim function and script.
 */
import type { WorkerLimits } from './backend.js';

/** What the store counted for one limited name before the claim. */
export interface NameUsage {
  /** Its jobs `processing` now, by concurrency key (only read for concurrency limits). */
  runningByKey: ReadonlyMap<string | null, number>;
  /** Start times (ms) within the rate window, oldest first (only read for rate limits). */
  starts: readonly number[];
}

/** How many more jobs of each limited name and key a claim may take. */
export class ClaimBudget {
  /** Jobs taken by this claim, by name and by name and key. */
  private readonly taken = new Map<string, number>();
  private readonly takenByKey = new Map<string, number>();

  constructor(
    private readonly limits: Readonly<Record<string, WorkerLimits>>,
    private readonly usage: ReadonlyMap<string, NameUsage>,
  ) {}

  /** How many starts of `name` its rate limit still allows (Infinity when it has none). */
  room(name: string): number {
    const rate = this.limits[name]?.rate;
    if (!rate) return Infinity;
    return Math.max(0, rate.max - (this.usage.get(name)?.starts.length ?? 0) - (this.taken.get(name) ?? 0));
  }

  /** Whether one more job of `name` with concurrency key `key` may be taken. */
  allows(name: string, key: string | null): boolean {
    if (this.room(name) <= 0) return false;
    const concurrency = this.limits[name]?.concurrency;
    if (concurrency === undefined) return true;
    const running = this.usage.get(name)?.runningByKey.get(key) ?? 0;
    return running + (this.takenByKey.get(`${name}\0${key}`) ?? 0) < concurrency;
  }

  /** Counts a job taken (only names with limits are counted: nothing reads the others). */
  take(name: string, key: string | null): void {
    if (this.limits[name] === undefined) return;
    this.taken.set(name, (this.taken.get(name) ?? 0) + 1);
    const id = `${name}\0${key}`;
    this.takenByKey.set(id, (this.takenByKey.get(id) ?? 0) + 1);
  }

  /**
   * When the earliest rate window of a name that is out of starts opens again (ms), so an idle
   * worker can sleep until then instead of polling; `undefined` when none is out of starts.
   */
  reopensAt(now: number): number | undefined {
    let soonest: number | undefined;
    for (const [name, limits] of Object.entries(this.limits)) {
      if (!limits.rate || this.room(name) > 0) continue;
      // The starts in the window, the ones this claim took (at `now`) last; one more start is
      // allowed once enough of the oldest have left the window.
      const starts = [...(this.usage.get(name)?.starts ?? []), ...Array(this.taken.get(name) ?? 0).fill(now)];
      const at = starts[Math.max(0, starts.length - limits.rate.max)] + limits.rate.perMs;
      soonest = soonest === undefined ? at : Math.min(soonest, at);
    }
    return soonest;
  }
}
