/**
 * The sandbox pool: worker threads that run the `perform` of workers whose `sandbox()` is true,
 * at most one job per thread, threads reused between jobs and made as slots need them (never
 * more than the loop's concurrency). Aborting a run's signal (its timeout) terminates its thread,
 * however busy it is; the next job gets a fresh one.
 */
import { Worker } from 'node:worker_threads';
import type { AppContext } from '../context.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RegisteredWorker } from '../registry.js';
import { type FromThread, fromSandboxError, type ToThread, toSandboxError } from './protocol.js';
import type { SandboxThreadData } from './thread.js';

/** The thread entry next to this file: TypeScript under tsx (the repository's tests), JavaScript once built. */
const UNDER_TSX = /\.ts$/.test(new URL(import.meta.url).pathname);
const ENTRY = new URL(UNDER_TSX ? './thread.ts' : './thread.js', import.meta.url).href;

/** One running job on a thread. */
interface Run {
  id: number;
  worker: RegisteredWorker;
  resolve(): void;
  reject(err: unknown): void;
}

/** A thread of the pool and the job it runs, if any. */
class SandboxThread {
  readonly thread: Worker;
  current: Run | undefined;
  /** Set once the thread has exited or been terminated: it takes no more jobs. */
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
    this.thread.on('error', (err) => this.end(err));
    this.thread.on('exit', (code) => this.end(new Error(`The sandbox thread exited with code ${code}.`)));
  }

  run(run: Run, message: ToThread): void {
    this.current = run;
    this.thread.ref();
    try {
      this.thread.postMessage(message);
    } catch (err) {
      this.settle(run.id, err);
    }
  }

  /** Stops the thread at once, whatever it is doing; its job (if any) is rejected with `reason`. */
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

  /** Enqueues for a sandboxed job through the app's queue, in this thread, and replies. */
  private async enqueue(message: Extract<FromThread, { type: 'enqueue' }>): Promise<void> {
    let reply: ToThread;
    try {
      const queue = (this.current?.worker.instance as { ctx?: AppContext } | undefined)?.ctx?.queue;
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
    const run = this.current;
    if (!run || run.id !== id) return;
    this.current = undefined;
    if (!this.gone) this.thread.unref();
    if (err === undefined) run.resolve();
    else run.reject(err);
  }

  private end(reason: unknown): void {
    if (this.gone) return;
    this.gone = true;
    this.onGone(this);
    if (this.current) this.settle(this.current.id, reason);
  }
}

/** Runs sandboxed `perform`s on reused worker threads; see the file's comment. */
export class SandboxPool {
  private readonly idle: SandboxThread[] = [];
  private readonly threads = new Set<SandboxThread>();
  private runs = 0;

  constructor(private readonly logger: Logger) {}

  /**
   * Runs `worker`'s `perform(args)` on a thread. Resolves or rejects as it does (a thrown error
   * keeps its name, message and stack); when `signal` aborts, the thread is terminated and the
   * run rejects with the signal's reason.
   */
  run(worker: RegisteredWorker, moduleUrl: string, args: unknown, signal: AbortSignal): Promise<void> {
    const thread = this.idle.pop() ?? this.spawn();
    const ctx = (worker.instance as { ctx?: AppContext }).ctx;
    const id = ++this.runs;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        thread.terminate(signal.reason).catch((err) => {
          this.logger.error(`Could not terminate a sandbox thread: ${describeError(err)}`);
        });
      };
      const done = () => {
        signal.removeEventListener('abort', onAbort);
        if (!thread.gone) this.idle.push(thread);
      };
      thread.run(
        {
          id,
          worker,
          resolve: () => {
            done();
            resolve();
          },
          reject: (err) => {
            done();
            reject(err);
          },
        },
        {
          type: 'run',
          run: id,
          moduleUrl,
          name: worker.name,
          args,
          context: {
            environment: ctx?.environment ?? 'development',
            config: ctx?.config as never,
            root: ctx?.root ?? process.cwd(),
            appName: ctx?.appName ?? 'app',
          },
        },
      );
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Terminates every thread; a job still running on one is rejected. */
  async close(): Promise<void> {
    const closing = new Error('The sandbox pool was closed while this job ran.');
    await Promise.all([...this.threads].map((thread) => thread.terminate(closing)));
    this.idle.length = 0;
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
