/** Shortest time between two NOTIFYs of one backend, in ms. */
const MIN_GAP_MS = 5;

/**
 * Sends the queue's NOTIFY after jobs became due, without holding up the caller. The first
 * request after a quiet spell is sent on the next turn of the event loop (after the claims that
 * local workers start on the same wake-up); requests that come while one is pending or in
 * flight are folded into one more, sent at least MIN_GAP_MS after the previous. A burst of
 * enqueues thus costs a few notifications, not one round trip each, and a worker elsewhere that
 * went idle during the burst waits at most MIN_GAP_MS longer for its wake-up.
 */
export class WakeupSender {
  private inFlight: Promise<void> | undefined;
  private again = false;
  private closing = false;
  private lastSent = 0;

  constructor(
    /** Sends one NOTIFY. */
    private readonly send: () => Promise<unknown>,
    /** Told when a NOTIFY could not be sent (workers elsewhere then find the jobs at their next poll). */
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Asks for a NOTIFY after this moment; returns at once. */
  request(): void {
    if (this.closing) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = this.run();
  }

  /** Takes no more requests; resolves once those already made are sent (a CLI that enqueues and exits still wakes the workers). */
  async close(): Promise<void> {
    this.closing = true;
    await this.inFlight;
  }

  private async run(): Promise<void> {
    do {
      const wait = this.lastSent + MIN_GAP_MS - Date.now();
      await new Promise<void>((resolve) => (wait > 0 ? setTimeout(resolve, wait) : setImmediate(resolve)));
      this.again = false;
      this.lastSent = Date.now();
      try {
        await this.send();
      } catch (err) {
        this.onError(err);
      }
    } while (this.again);
    this.inFlight = undefined;
  }
}
