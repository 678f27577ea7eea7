/**
 * The entry of a sandbox thread: imports the modules of the workers it is asked to run, builds
 * each class once with a sandbox context, runs `perform` and reports how it ended. The main
 * thread terminates it on a timeout, so nothing here has to stop a running job.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { AppContext } from '../context.js';
import type { WorkerClass, WorkerInstance } from '../worker-class.js';
import { type FromThread, fromSandboxError, type ToThread, toSandboxError } from './protocol.js';
import { sandboxContext } from './thread-context.js';

/** What the pool passes as `workerData`. */
export interface SandboxThreadData {
  /** tsx's `tsImport` (its module URL), for TypeScript worker modules when this thread runs plain JavaScript. */
  tsxApi: string;
  /** Whether this thread's own modules came through tsx already (then `import()` reads TypeScript). */
  underTsx: boolean;
}

const port = parentPort as MessagePort;
const { tsxApi, underTsx } = workerData as SandboxThreadData;
const modules = new Map<string, Promise<Record<string, unknown>>>();
const instances = new Map<string, WorkerInstance>();
let context: ReturnType<typeof sandboxContext> | undefined;
/** Never aborts: a timeout terminates the whole thread instead. */
const signal = new AbortController().signal;

port.on('message', (message: ToThread) => {
  if (message.type === 'enqueued') {
    context?.settle(message.request, message.result, message.error && fromSandboxError(message.error));
  } else {
    void run(message);
  }
});

/** Loads the worker (`load`), or loads it and runs its `perform` (`run`), and replies how it went. */
async function run(message: Exclude<ToThread, { type: 'enqueued' }>): Promise<void> {
  let reply: FromThread;
  try {
    context ??= sandboxContext(port, message.context);
    const instance = await instanceOf(message.moduleUrl, message.name, context.ctx);
    if (message.type === 'run') await instance.perform(message.args, signal);
    reply = { type: 'done', run: message.run };
  } catch (err) {
    reply = { type: 'failed', run: message.run, error: toSandboxError(err) };
  }
  port.postMessage(reply);
}

/** The worker instance for a job name, built once per thread from the class its module exports. */
async function instanceOf(moduleUrl: string, name: string, ctx: AppContext): Promise<WorkerInstance> {
  const key = `${moduleUrl}#${name}`;
  const known = instances.get(key);
  if (known) return known;
  let loading = modules.get(moduleUrl);
  if (!loading) {
    loading = importModule(moduleUrl);
    modules.set(moduleUrl, loading);
  }
  const exports = await loading;
  const type = Object.values(exports).find(
    (value): value is WorkerClass =>
      typeof value === 'function' &&
      typeof (value as Partial<WorkerClass>).className === 'function' &&
      (value as WorkerClass).className() === name,
  );
  if (!type) {
    throw new Error(
      `The sandbox thread imported ${moduleUrl}, but none of its exports is a worker class whose className() is ` +
        `'${name}'. Export the class from the module its static moduleUrl names (static override readonly ` +
        'moduleUrl = import.meta.url, in the file that declares the class).',
    );
  }
  const build = (type as unknown as { build?: (ctx: AppContext) => WorkerInstance }).build;
  const instance = typeof build === 'function' ? build.call(type, ctx) : new type(ctx as never);
  instances.set(key, instance);
  return instance;
}

/** Imports a worker module: TypeScript through tsx when this thread does not read it already. */
async function importModule(moduleUrl: string): Promise<Record<string, unknown>> {
  const url = new URL(moduleUrl);
  // A module the main thread loaded through tsImport carries tsx's namespace; this thread has its own.
  url.searchParams.delete('tsx-namespace');
  url.searchParams.delete('namespace');
  if (!underTsx && /\.[cm]?tsx?$/.test(url.pathname)) {
    const { tsImport } = (await import(tsxApi)) as {
      tsImport(specifier: string, parent: string): Promise<Record<string, unknown>>;
    };
    return tsImport(url.href, import.meta.url);
  }
  return import(url.href);
}
