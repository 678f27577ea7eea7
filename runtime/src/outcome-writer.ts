import { describeError } from './errors.js';
import type { Logger } from './logger.js';
import type { JobOutcome, QueueBackend } from './queue/backend.js';
import { sleep } from './sleep.js';

/** Tries at writing a batch of outcomes before writing them one at a time. */
const WRITE_TRIES = 3;
/** Refusals of one outcome, while others are saved, before it is given up (its lease then brings the job back). */
const POISON_TRIES = 5;

/**
 * Saves outcomes with as few writes as the store allows: while one write is in flight, later
 * outcomes gather and go in the next one (group commit). A failed write is retried with backoff,
 * then outcome by outcome; one the store keeps refusing while it saves others is given up, and
 * its lease brings the job back, as when the process dies. Where a claim can record outcomes in
 * its own transaction, the worker loop hands it the waiting ones instead (`takeForClaim`).
 */
export class OutcomeWriter {
  private pending: JobOutcome[] = [];
  /**
   * Every outcome added and not yet saved or given up: waiting, in the write in flight, or riding
   * on a claim. Their jobs stay leased to this process until then (`heldIds`).
   */
  private readonly held = new Set<JobOutcome>();
  private writing: Promise<void> | undefined;
  /** Outcomes riding on claims in flight (`takeForClaim`). */
  private riding = 0;
  /**
   * A write or a claim carrying outcomes failed, and no write has gone through since: outcomes
   * wait for the writer, whose retries and one-at-a-time writes find an outcome the store refuses.
   */
  private troubled = false;
  /** Waiting for the write in flight to end. */
  private waiters: Array<() => void> = [];
  /** Successful writes so far: tells a refused outcome from a store that is down. */
  private saved = 0;
  private readonly refused = new Map<JobOutcome, { tries: number; savedBefore: number }>();
  /** Aborted to end the wait after a failed write early. */
  private backoff: AbortController | undefined;

  constructor(
    private readonly backend: QueueBackend,
    private readonly logger: Logger,
    /** The wait after a failed write, doubled after each further one. (Default: 100 ms, at most 5 s) */
    private readonly retry = { baseMs: 100, maxMs: 5000 },
  ) {}

  add(outcome: JobOutcome): void {
    this.held.add(outcome);
    this.pending.push(outcome);
    this.writing ??= this.drain();
  }

  /** Outcomes added and not yet saved (waiting, in the write in flight, or riding on a claim). */
  get unrecorded(): number {
    return this.held.size;
  }

  /** Outcomes a claim would take now (`takeForClaim`): those waiting for a write, unless the writer is retrying. */
  get waiting(): number {
    return this.troubled ? 0 : this.pending.length;
  }

  /**
   * The jobs of the outcomes not yet saved: the worker loop's heartbeats keep their leases, so
   * that a job that ran is not brought back to run again while its outcome waits for a slow or
   * failing write. One given up (refused by the store) leaves this list, and its lease runs out.
   */
  heldIds(): string[] {
    return [...this.held].map((outcome) => outcome.id);
  }

  /**
   * Hands the waiting outcomes to a claim that records them in its own transaction
   * (`ClaimRequest.finish`), saving a write; `claimEnded` says how it went. None while the writer
   * is retrying after a failure: a claim must not take, again and again, an outcome the store refuses.
   */
  takeForClaim(): JobOutcome[] {
    if (this.troubled) return [];
    const batch = this.pending.splice(0);
    this.riding += batch.length;
    return batch;
  }

  /** The claim that took `batch` ended: saved with it, or, when it failed, to be written again here. */
  claimEnded(batch: JobOutcome[], saved: boolean): void {
    if (batch.length === 0) return;
    this.riding -= batch.length;
    if (saved) {
      for (const outcome of batch) this.held.delete(outcome);
    } else {
      this.troubled = true;
      this.pending = batch.concat(this.pending);
      this.writing ??= this.drain();
    }
    this.wake();
  }

  /** Resolves when the next write or claim carrying outcomes ends, saved or not (at once when none is under way). */
  progress(): Promise<void> {
    if (!this.writing && this.riding === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Says the store answers again (a claim went through after failing): a write waiting out its
   * backoff is tried at once. Otherwise the outcomes that piled up during an outage would wait
   * up to 5 s more while new jobs are claimed and run, and leases shorter than that would run out
   * and bring those jobs back to run again.
   */
  storeAnswered(): void {
    this.backoff?.abort();
  }

  /** Resolves when every outcome added so far is saved. */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    // Let the jobs that finish in this turn of the event loop join the first write.
    await new Promise<void>((resolve) => setImmediate(resolve));
    let failures = 0;
    while (this.pending.length > 0) {
      // After repeated failures, write one outcome at a time, so that one the store refuses
      // cannot hold back the others.
      const single = failures >= WRITE_TRIES;
      const batch = single ? this.pending.splice(0, 1) : this.pending.splice(0);
      try {
        await this.backend.finish(batch);
        failures = 0;
        this.troubled = false;
        this.saved += 1;
        for (const outcome of batch) {
          this.refused.delete(outcome);
          this.held.delete(outcome);
        }
      } catch (err) {
        this.troubled = true;
        failures += 1;
        if (single && this.giveUp(batch[0])) {
          this.held.delete(batch[0]);
          this.logger.error(
            `Gave up saving the outcome of job ${batch[0].id}: the store refused it ${POISON_TRIES} times while ` +
              `saving others, so it will run again once its lease runs out. Last error: ${describeError(err)}`,
          );
          continue;
        }
        this.pending = single ? this.pending.concat(batch) : batch.concat(this.pending);
        const wait = Math.min(this.retry.baseMs * 2 ** failures, this.retry.maxMs);
        this.logger.error(
          `Could not save ${batch.length} job outcome(s) (retrying in ${wait} ms): ${describeError(err)}`,
        );
        this.backoff = new AbortController();
        await sleep(wait, this.backoff.signal);
        this.backoff = undefined;
      } finally {
        this.wake();
      }
    }
    this.writing = undefined;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Counts a refusal of one outcome; true once it was refused often while other writes went through. */
  private giveUp(outcome: JobOutcome): boolean {
    const seen = this.refused.get(outcome) ?? { tries: 0, savedBefore: this.saved };
    seen.tries += 1;
    this.refused.set(outcome, seen);
    if (seen.tries < POISON_TRIES || this.saved === seen.savedBefore) return false;
    this.refused.delete(outcome);
    return true;
  }
}
