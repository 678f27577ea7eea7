/**
 * Sends the queue's NOTIFY after jobs became due, without holding up the caller: one NOTIFY is
 * in flight at a time, and the wake-ups asked for meanwhile are folded into one more, so a burst
 * of enqueues costs a few notifications, not one each. The first one leaves on the next turn of
 * the event loop, after the claims that local workers start on the same wake-up.
 */
export class WakeupSender {
  private inFlight: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    /** Sends one NOTIFY. */
    private readonly send: () => Promise<unknown>,
    /** Told when a NOTIFY could not be sent (workers elsewhere then find the jobs at their next poll). */
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Asks for a NOTIFY after this moment; returns at once. */
  request(): void {
    if (this.closed) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.run());
  }

  /** Takes no more requests; resolves once those already made are sent (a CLI that enqueues and exits still wakes the workers). */
  async close(): Promise<void> {
    this.closed = true;
    await this.inFlight;
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.send();
      } catch (err) {
        this.onError(err);
      }
    } while (this.again);
    this.inFlight = undefined;
  }
}
