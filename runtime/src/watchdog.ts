/**
 * The watchdog: a small worker thread that watches the main thread's event loop through a
 * counter in shared memory. The main thread bumps the counter on a timer; if it stays unchanged
 * past the threshold, the loop is blocked (a CPU-bound `perform`, a runaway synchronous call), and
 * since nothing in the process can run any more (no heartbeats, no timeouts, no signal handlers)
 * the thread writes what it knows to stderr and kills the process with SIGKILL, so its supervisor
 * starts a new one and the blocked process's jobs come back once their leases run out.
 */
import { Worker } from 'node:worker_threads';

/** Bytes kept for the labels of the running jobs (their names and ids), enough for many slots. */
const LABEL_BYTES = 16 * 1024;
/** Int32 slots before the labels: the beat counter, the labels' write sequence, their length. */
const BEAT = 0;
const SEQUENCE = 1;
const LENGTH = 2;
const HEADER_BYTES = 16;

/** The thread's code: plain JavaScript with no imports of ours, so it starts fast and reads no TypeScript. */
const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { buffer, thresholdMs, checkMs, header, labelBytes } = workerData;
const ints = new Int32Array(buffer, 0, header / 4);
const bytes = new Uint8Array(buffer, header, labelBytes);
let last = Atomics.load(ints, ${BEAT});
let since = Date.now();
function labels() {
  for (let tries = 0; tries < 100; tries++) {
    const before = Atomics.load(ints, ${SEQUENCE});
    if (before % 2 === 1) continue;
    const text = Buffer.from(bytes.slice(0, Atomics.load(ints, ${LENGTH}))).toString('utf8');
    if (Atomics.load(ints, ${SEQUENCE}) === before) return text;
  }
  return '(could not be read)';
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

/** A running watchdog: `enter`/`leave` tell it which jobs run, `stop` ends it. */
export class Watchdog {
  private readonly ints: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly running = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;
  private readonly encoder = new TextEncoder();

  private constructor(
    private readonly thread: Worker,
    buffer: SharedArrayBuffer,
    beatMs: number,
  ) {
    this.ints = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.bytes = new Uint8Array(buffer, HEADER_BYTES, LABEL_BYTES);
    this.timer = setInterval(() => Atomics.add(this.ints, BEAT, 1), beatMs);
    this.timer.unref();
  }

  /** Starts the watchdog thread; the main thread's beats begin at once. */
  static start(options: WatchdogOptions): Watchdog {
    const buffer = new SharedArrayBuffer(HEADER_BYTES + LABEL_BYTES);
    // Beat and look often enough that a block is seen within about a quarter of the threshold.
    const beatMs = Math.max(10, Math.min(1000, Math.floor(options.thresholdMs / 4)));
    const thread = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        buffer,
        thresholdMs: options.thresholdMs,
        checkMs: beatMs,
        header: HEADER_BYTES,
        labelBytes: LABEL_BYTES,
      },
    });
    thread.unref();
    return new Watchdog(thread, buffer, beatMs);
  }

  /** Notes that a job runs on the main thread (`key` unique per run), for the watchdog's message. */
  enter(key: string, label: string): void {
    this.running.set(key, label);
    this.publish();
  }

  /** Notes that the run `key` has ended. */
  leave(key: string): void {
    if (this.running.delete(key)) this.publish();
  }

  /** Stops the beats and the thread. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.thread.terminate();
  }

  /** Writes the running jobs' labels into shared memory, under a sequence number the thread checks. */
  private publish(): void {
    const text = [...this.running.values()].join(', ');
    Atomics.add(this.ints, SEQUENCE, 1);
    const { written } = this.encoder.encodeInto(text, this.bytes);
    Atomics.store(this.ints, LENGTH, written);
    Atomics.add(this.ints, SEQUENCE, 1);
  }
}
