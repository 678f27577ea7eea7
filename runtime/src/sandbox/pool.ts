/**
 * The sandbox pool: worker threads that run the `perform` of workers whose `sandbox()` is true,
 * one job per thread at a time, threads reused between jobs and made as slots need them (never
 * more than the loop's concurrency, since the loop never runs more jobs than that). A job first
 * reserves a thread that has loaded its worker's module (`prepare`), then runs on it; aborting
 * the run's signal (its timeout) terminates the thread, however busy it is.
 */
import { Worker } from 'node:worker_threads';
import type { AppContext } from '../context.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RegisteredWorker } from '../registry.js';
import {
  type FromThread,
  fromSandboxError,
  type SandboxContextData,
  type ToThread,
  toSandboxError,
} from './protocol.js';
import type { SandboxThreadData } from './thread.js';

/** The thread entry next to this file: TypeScript under tsx (the repository's tests), JavaScript once built. */
const UNDER_TSX = /\.ts$/.test(new URL(import.meta.url).pathname);
const ENTRY = new URL(UNDER_TSX ? './thread.ts' : './thread.js', import.meta.url).href;

/** A request a thread is working on: loading a worker, or running a job. */
interface Pending {
  id: number;
  worker: RegisteredWorker;
  resolve(): void;
  reject(err: unknown): void;
}

/** A thread of the pool and the request it works on, if any. */
class SandboxThread {
  readonly thread: Worker;
  pending: Pending | undefined;
  /** The modules this thread has loaded: a job of one of them starts without waiting for an import. */
  readonly loaded = new Set<string>();
  /** Set once the thread has exited or been terminated: it takes no more work. */
  gone = false;

  constructor(
    private readonly logger: Logger,
    private readonly onGone: (thread: SandboxThread) => void,
  ) {
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const data: SandboxThreadData = { tsxApi, underTsx: UNDER_TSX };
    // Under tsx the entry is TypeScript, which a plain thread cannot read: load it through tsImport.
    const source = UNDER_TSX
      ? `import(${JSON.stringify(tsxApi)}).then((api) => api.tsImport(${JSON.stringify(ENTRY)}, ${JSON.stringify(ENTRY)}))`
      : `import(${JSON.stringify(ENTRY)})`;
    this.thread = new Worker(source, { eval: true, workerData: data });
    this.thread.unref();
    this.thread.on('message', (message: FromThread) => this.receive(message));
    this.thread.on('error', (err) => this.end(err, 'unexpected'));
    this.thread.on('exit', (code) =>
      this.end(
        new Error(
          `The sandbox thread exited with code ${code} before the job ended: the job called process.exit(), ` +
            'or its thread failed. Let perform return or throw instead.',
        ),
        'unexpected',
      ),
    );
  }

  /** Sends a `load` or `run` request; settles as the thread replies, or rejects if the thread dies first. */
  send(message: Exclude<ToThread, { type: 'enqueued' }>, worker: RegisteredWorker): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.gone) {
        reject(new Error('The sandbox thread is gone.'));
        return;
      }
      this.pending = { id: message.run, worker, resolve, reject };
      this.thread.ref();
      try {
        this.thread.postMessage(message);
      } catch (err) {
        this.settle(message.run, err);
      }
    });
  }

  /** Stops the thread at once, whatever it is doing; its request (if any) is rejected with `reason`. */
  terminate(reason: unknown): Promise<void> {
    this.end(reason);
    return this.thread.terminate().then(() => undefined);
  }

  private receive(message: FromThread): void {
    switch (message.type) {
      case 'done':
        this.settle(message.run);
        return;
      case 'failed':
        this.settle(message.run, fromSandboxError(message.error));
        return;
      case 'log':
        this.logger[message.level](message.fields, message.message);
        return;
      case 'enqueue':
        void this.enqueue(message);
        return;
    }
  }

  /** Enqueues for a sandboxed job through the app's queue, in the main thread, and replies. */
  private async enqueue(message: Extract<FromThread, { type: 'enqueue' }>): Promise<void> {
    let reply: ToThread;
    try {
      const queue = (this.pending?.worker.instance as { ctx?: AppContext } | undefined)?.ctx?.queue;
      const type = queue?.registry.get(message.name)?.type;
      if (!queue || !type) {
        throw new Error(
          `A sandboxed job asked to enqueue ${message.name}, which is not registered in this process: register it in ` +
            'connectWorkers (queue.register(...)) so the main thread knows its settings, or enqueue it outside the sandbox.',
        );
      }
      const result = message.many
        ? await queue.performLaterMany(type, message.args as unknown[], message.options as never)
        : await queue.performLater(type, message.args, message.options as never);
      reply = { type: 'enqueued', request: message.request, result };
    } catch (err) {
      reply = { type: 'enqueued', request: message.request, error: toSandboxError(err) };
    }
    if (!this.gone) this.thread.postMessage(reply);
  }

  private settle(id: number, err?: unknown): void {
    const pending = this.pending;
    if (!pending || pending.id !== id) return;
    this.pending = undefined;
    if (!this.gone) this.thread.unref();
    if (err === undefined) pending.resolve();
    else pending.reject(err);
  }

  /** Marks the thread gone and fails its request with `reason`; a thread that dies between jobs is logged. */
  private end(reason: unknown, how: 'terminated' | 'unexpected' = 'terminated'): void {
    if (this.gone) return;
    this.gone = true;
    this.onGone(this);
    if (this.pending) this.settle(this.pending.id, reason);
    else if (how === 'unexpected') {
      this.logger.error(`A sandbox thread ended between jobs (a new one takes the next job): ${describeError(reason)}`);
    }
  }
}

/** Runs sandboxed `perform`s on reused worker threads; see the file's comment. */
export class SandboxPool {
  private readonly idle: SandboxThread[] = [];
  private readonly threads = new Set<SandboxThread>();
  private requests = 0;

  constructor(private readonly logger: Logger) {}

  /**
   * Reserves a thread that has loaded `worker`'s module (starting one if none is idle) and
   * returns the function that runs the job on it. Rejects, naming the problem, if the module
   * cannot be imported or does not export the worker. The thread's start and import are not part
   * of the job's timeout, which begins when the returned function is called.
   */
  async prepare(
    worker: RegisteredWorker,
    moduleUrl: string,
  ): Promise<(args: unknown, signal: AbortSignal) => Promise<void>> {
    const at = this.idle.findIndex((thread) => thread.loaded.has(moduleUrl));
    const thread = at >= 0 ? this.idle.splice(at, 1)[0] : (this.idle.pop() ?? this.spawn());
    const context = contextData(worker);
    try {
      if (!thread.loaded.has(moduleUrl)) {
        await thread.send({ type: 'load', run: ++this.requests, moduleUrl, name: worker.name, context }, worker);
        thread.loaded.add(moduleUrl);
      }
    } catch (err) {
      this.release(thread);
      throw err;
    }
    return (args, signal) => this.run(thread, worker, moduleUrl, context, args, signal);
  }

  /** Terminates every thread; a job still running on one is rejected. */
  async close(): Promise<void> {
    const closing = new Error('The sandbox pool was closed while this job ran.');
    await Promise.all([...this.threads].map((thread) => thread.terminate(closing)));
    this.idle.length = 0;
  }

  private async run(
    thread: SandboxThread,
    worker: RegisteredWorker,
    moduleUrl: string,
    context: SandboxContextData,
    args: unknown,
    signal: AbortSignal,
  ): Promise<void> {
    const onAbort = () => {
      thread.terminate(signal.reason).catch((err) => {
        this.logger.error(`Could not terminate a sandbox thread: ${describeError(err)}`);
      });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal.aborted) onAbort();
      await thread.send({ type: 'run', run: ++this.requests, moduleUrl, name: worker.name, args, context }, worker);
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.release(thread);
    }
  }

  /** Hands a thread back for the next job, unless it is gone. */
  private release(thread: SandboxThread): void {
    if (!thread.gone) this.idle.push(thread);
  }

  private spawn(): SandboxThread {
    const thread = new SandboxThread(this.logger, (gone) => {
      this.threads.delete(gone);
      const at = this.idle.indexOf(gone);
      if (at >= 0) this.idle.splice(at, 1);
    });
    this.threads.add(thread);
    return thread;
  }
}

/** The plain part of the worker's app context, which the thread's `ctx` is built from. */
function contextData(worker: RegisteredWorker): SandboxContextData {
  const ctx = (worker.instance as { ctx?: AppContext }).ctx;
  if (!ctx) {
    throw new Error(
      `${worker.type.name} has no ctx to hand to its sandbox thread: sandboxed workers extend BackgroundWorker ` +
        'and are registered with queue.register(MyWorker.build(ctx)).',
    );
  }
  return { environment: ctx.environment, config: ctx.config, root: ctx.root, appName: ctx.appName };
}
