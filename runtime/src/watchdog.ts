/**
 * The watchdog: a small worker thread that watches the main thread's event loop through a
 * counter in shared memory. The main thread bumps the counter on a timer; if it stays unchanged
 * past the threshold, the loop is blocked (a CPU-bound `perform`, a runaway synchronous call), and
 * since nothing in the process can run any more (no heartbeats, no timeouts, no signal handlers)
 * the thread writes what it knows to stderr and kills the process with SIGKILL, so its supervisor
 * starts a new one and the blocked process's jobs come back once their leases run out.
 */
import { Worker } from 'node:worker_threads';

/** Running jobs' labels (name and id) are kept in fixed slots of shared memory, one per running job. */
const SLOTS = 128;
const SLOT_BYTES = 128;
/** Int32 slots before the labels: the beat counter, and the jobs running past the last slot. */
const BEAT = 0;
const OVERFLOW = 1;
const HEADER_BYTES = 16;
/** Where each slot's label length (0: empty) is kept, then the labels themselves. */
const LENGTHS_AT = HEADER_BYTES;
const LABELS_AT = LENGTHS_AT + SLOTS * 4;

/** The thread's code: plain JavaScript with no imports of ours, so it starts fast and reads no TypeScript. */
const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { buffer, thresholdMs, checkMs } = workerData;
const ints = new Int32Array(buffer, 0, ${HEADER_BYTES / 4});
const lengths = new Int32Array(buffer, ${LENGTHS_AT}, ${SLOTS});
const bytes = new Uint8Array(buffer, ${LABELS_AT}, ${SLOTS * SLOT_BYTES});
let last = Atomics.load(ints, ${BEAT});
let since = Date.now();
function labels() {
  const found = [];
  for (let slot = 0; slot < ${SLOTS}; slot++) {
    const length = Atomics.load(lengths, slot);
    if (length > 0) {
      const at = slot * ${SLOT_BYTES};
      found.push(Buffer.from(bytes.slice(at, at + length)).toString('utf8'));
    }
  }
  const more = Atomics.load(ints, ${OVERFLOW});
  return found.join(', ') + (more > 0 ? ' and ' + more + ' more' : '');
}
setInterval(() => {
  const beat = Atomics.load(ints, ${BEAT});
  const now = Date.now();
  if (beat !== last) {
    last = beat;
    since = now;
    return;
  }
  if (now - since < thresholdMs) return;
  const running = labels();
  writeSync(2, 'loco watchdog: the event loop of process ' + process.pid + ' has been blocked for ' +
    (now - since) + ' ms (workers.watchdog_sec: ' + thresholdMs / 1000 + ' s); running jobs: ' +
    (running || 'none') + '. Killing the process (SIGKILL) so that its supervisor starts a new one; ' +
    'its jobs run again once their leases run out. Move CPU-bound work into a sandboxed worker ' +
    '(static sandbox() { return true; }), or raise workers.watchdog_sec.\\n');
  process.kill(process.pid, 'SIGKILL');
}, checkMs);
`;

/** Options of `Watchdog.start`. */
export interface WatchdogOptions {
  /** Kill the process once its event loop has been blocked this long, in ms. (config `workers.watchdog_sec`) */
  thresholdMs: number;
}

/**
 * A running watchdog: `enter`/`leave` tell it which jobs run (each costs one label written into a
 * slot, whatever the number of running jobs), `stop` ends it.
 */
export class Watchdog {
  private readonly ints: Int32Array;
  private readonly lengths: Int32Array;
  /** Each slot's bytes for its label. */
  private readonly labels: Uint8Array[];
  /** Slots free again, and how many were ever used. */
  private readonly free: number[] = [];
  private used = 0;
  private overflow = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly encoder = new TextEncoder();

  private constructor(
    private readonly thread: Worker,
    buffer: SharedArrayBuffer,
    beatMs: number,
  ) {
    this.ints = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.lengths = new Int32Array(buffer, LENGTHS_AT, SLOTS);
    this.labels = Array.from(
      { length: SLOTS },
      (_, slot) => new Uint8Array(buffer, LABELS_AT + slot * SLOT_BYTES, SLOT_BYTES),
    );
    this.timer = setInterval(() => Atomics.add(this.ints, BEAT, 1), beatMs);
    this.timer.unref();
  }

  /** Starts the watchdog thread; the main thread's beats begin at once. */
  static start(options: WatchdogOptions): Watchdog {
    const buffer = new SharedArrayBuffer(LABELS_AT + SLOTS * SLOT_BYTES);
    // Beat and look often enough that a block is seen within about a quarter of the threshold.
    const beatMs = Math.max(10, Math.min(1000, Math.floor(options.thresholdMs / 4)));
    const thread = new Worker(THREAD_SOURCE, {
      eval: true,
      // Not the parent's flags: a loader such as tsx (--import) would be loaded in the thread too.
      execArgv: [],
      workerData: { buffer, thresholdMs: options.thresholdMs, checkMs: beatMs },
    });
    thread.unref();
    return new Watchdog(thread, buffer, beatMs);
  }

  /**
   * Notes that a job runs on the main thread, for the watchdog's message; returns the slot its
   * label went into, which `leave` takes.
   */
  enter(label: string): number {
    const slot = this.free.pop() ?? (this.used < SLOTS ? this.used++ : -1);
    if (slot < 0) {
      Atomics.store(this.ints, OVERFLOW, ++this.overflow);
      return slot;
    }
    const { written } = this.encoder.encodeInto(label, this.labels[slot]);
    Atomics.store(this.lengths, slot, written);
    return slot;
  }

  /** Notes that the job `enter` gave `slot` has ended. */
  leave(slot: number): void {
    if (slot < 0) {
      Atomics.store(this.ints, OVERFLOW, --this.overflow);
      return;
    }
    Atomics.store(this.lengths, slot, 0);
    this.free.push(slot);
  }

  /** Stops the beats and the thread. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.thread.terminate();
  }
}
