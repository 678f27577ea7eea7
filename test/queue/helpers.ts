import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monotonicFactory } from 'ulid';
import {
  type AppContext,
  BackgroundWorker,
  type ClaimedJob,
  createBackend,
  createLogger,
  type JobOutcome,
  type Logger,
  type NewJob,
  Queue,
  type QueueBackend,
  type RetryPolicy,
  runWorkerLoop,
  type StoreConfig,
  silentLogger,
  storeConfig,
  validateConfig,
} from '../../runtime/src/internals.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const nextId = monotonicFactory();

/**
 * A job as `QueueBackend.enqueue` takes it, for tests that write to a store directly: due now,
 * args naming the worker, untagged, default queue and priority, no keys, one attempt; `fields`
 * override any of these.
 */
export function newJob(name: string, fields: Partial<NewJob> = {}): NewJob {
  return {
    id: nextId(),
    name,
    task_data: { name },
    run_at: Date.now(),
    interval: null,
    tags: [],
    queue: null,
    priority: 0,
    key: null,
    concurrency_key: null,
    max_attempts: 1,
    ...fields,
  };
}

/** A context around a queue, enough for workers in tests. */
export function testContext(
  backend: QueueBackend | undefined,
  mode: 'BackgroundQueue' | 'ForegroundBlocking' = 'BackgroundQueue',
): AppContext {
  const queue = new Queue(mode, backend);
  // The defaults of an empty file, in the given mode; the store is `backend`, opened by the test.
  const config = validateConfig({}, 'test.yaml');
  return {
    environment: 'test',
    config: { ...config, workers: { ...config.workers, mode } },
    queue,
    root: ROOT,
    appName: 'test',
    logger: silentLogger,
  };
}

/** A logger that keeps its lines (`LEVEL message`) in `lines`, for tests that read what was logged. */
export function recordingLogger(lines: string[] = []): Logger & { lines: string[] } {
  const logger = createLogger({ level: 'trace', format: 'compact', write: (line) => lines.push(line) });
  return Object.assign(logger, { lines });
}

/** A `queue:` section (with `kind` and `uri`) as the validated config boot would open. */
export function testStoreConfig(queue: Record<string, unknown>): StoreConfig {
  const config = storeConfig(validateConfig({ queue }, 'test.yaml').queue);
  if (!config) throw new Error(`testStoreConfig: ${JSON.stringify(queue)} names no store (kind and uri)`);
  return config;
}

/** Opens and initialises the store a `queue:` config names, as boot does. */
export async function openStore(config: StoreConfig, logger: Logger = silentLogger): Promise<QueueBackend> {
  const backend = await createBackend(config, { root: ROOT, logger });
  await backend.init({ flush: config.dangerously_flush });
  return backend;
}

/** The store with the members `overrides` holds replaced; every other call goes to `backend` itself. */
export function withCalls(backend: QueueBackend, overrides: Partial<QueueBackend>): QueueBackend {
  return new Proxy(backend, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof QueueBackend];
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The store seen through `finish`: every outcome goes through it (claims carry none, whatever the
 * store's `finishInClaim`), and every other call goes to `backend` itself.
 */
export function withFinish(backend: QueueBackend, finish: QueueBackend['finish']): QueueBackend {
  return withCalls(backend, { finish, capabilities: { ...backend.capabilities, finishInClaim: false } });
}

/** The outcome of a claimed job that succeeded (a one-off job: it ends completed). */
export function completedOutcome(job: Pick<ClaimedJob, 'id' | 'attempts'> & { name?: string }): JobOutcome {
  return {
    id: job.id,
    name: job.name ?? 'EchoWorker',
    attempts: job.attempts,
    status: 'completed',
    runAt: null,
    nextAttempts: job.attempts,
    error: undefined,
  };
}

/** The outcome of a claimed job that failed with no attempts left. */
export function failedOutcome(job: Pick<ClaimedJob, 'id' | 'attempts'> & { name?: string }, error: string): JobOutcome {
  return {
    id: job.id,
    name: job.name ?? 'EchoWorker',
    attempts: job.attempts,
    status: 'failed',
    runAt: null,
    nextAttempts: job.attempts,
    error,
  };
}

/** The outcome of a claimed job that failed and is retried at `runAt`. */
export function retryOutcome(
  job: Pick<ClaimedJob, 'id' | 'attempts'> & { name?: string },
  error: string,
  runAt: number,
): JobOutcome {
  return {
    id: job.id,
    name: job.name ?? 'EchoWorker',
    attempts: job.attempts,
    status: 'queued',
    runAt,
    nextAttempts: job.attempts,
    error,
  };
}

/** Records every call, per job name. */
export class Calls {
  readonly seen: Array<{ name: string; args: unknown }> = [];
  /** Jobs of `SlowWorker` that have begun their `perform`, ended or not. */
  slowStarted = 0;
  reset(): void {
    this.seen.length = 0;
    this.slowStarted = 0;
  }
  count(name?: string): number {
    return this.seen.filter((call) => !name || call.name === name).length;
  }
}

export const calls = new Calls();

export interface EchoArgs {
  n: number;
  text?: string;
}

/** Succeeds and records its args. */
export class EchoWorker extends BackgroundWorker<EchoArgs> {
  async perform(args: EchoArgs): Promise<void> {
    calls.seen.push({ name: 'EchoWorker', args });
  }
}

/** Always fails; two attempts with a short backoff. */
export class FlakyWorker extends BackgroundWorker<{ n: number }> {
  static override retry(): RetryPolicy {
    return { attempts: 2, backoffMs: 20, maxBackoffMs: 40 };
  }
  async perform(args: { n: number }): Promise<void> {
    calls.seen.push({ name: 'FlakyWorker', args });
    throw new Error(`flaky failure ${args.n}`);
  }
}

/** Rejects with no Error at all, as `return Promise.reject()` does. */
export class RejectsNothingWorker extends BackgroundWorker<{ n: number }> {
  static override retry(): RetryPolicy {
    return { attempts: 1, backoffMs: 0, maxBackoffMs: 0 };
  }
  async perform(args: { n: number }): Promise<void> {
    calls.seen.push({ name: 'RejectsNothingWorker', args });
    return Promise.reject();
  }
}

/** Tagged `email`. */
export class EmailWorker extends BackgroundWorker<{ n: number }> {
  static override tags(): string[] {
    return ['email'];
  }
  async perform(args: { n: number }): Promise<void> {
    calls.seen.push({ name: 'EmailWorker', args });
  }
}

/** Tagged `Email` (another case), to show tags are case-sensitive. */
export class CapitalEmailWorker extends BackgroundWorker<{ n: number }> {
  static override tags(): string[] {
    return ['Email'];
  }
  async perform(args: { n: number }): Promise<void> {
    calls.seen.push({ name: 'CapitalEmailWorker', args });
  }
}

/** Tagged `report` and `pdf`. */
export class ReportWorker extends BackgroundWorker<{ n: number }> {
  static override tags(): string[] {
    return ['report', 'pdf'];
  }
  async perform(args: { n: number }): Promise<void> {
    calls.seen.push({ name: 'ReportWorker', args });
  }
}

/** Succeeds; its jobs are keyed by `n` (`n-<n>`). */
export class KeyedEchoWorker extends BackgroundWorker<EchoArgs> {
  static override uniqueKey(args: EchoArgs): string {
    return `n-${args.n}`;
  }
  async perform(args: EchoArgs): Promise<void> {
    calls.seen.push({ name: 'KeyedEchoWorker', args });
  }
}

/** Priority 10 by default. */
export class UrgentWorker extends BackgroundWorker<EchoArgs> {
  static override priority(): number {
    return 10;
  }
  async perform(args: EchoArgs): Promise<void> {
    calls.seen.push({ name: 'UrgentWorker', args });
  }
}

/** Takes `ms` milliseconds. */
export class SlowWorker extends BackgroundWorker<{ ms: number }> {
  async perform(args: { ms: number }): Promise<void> {
    calls.slowStarted += 1;
    await new Promise((resolve) => setTimeout(resolve, args.ms));
    calls.seen.push({ name: 'SlowWorker', args });
  }
}

/** What a test's worker loop takes besides the context: each has a default. */
export interface LoopSettings {
  tags?: string[];
  concurrency?: number;
  leaseMs?: number;
  pollIntervalMs?: number;
  logger?: Logger;
}

/**
 * Starts a worker loop over the context's store and registered workers; `stop()` aborts it and
 * resolves once it has ended.
 */
export function startLoop(ctx: AppContext, settings: LoopSettings = {}): { stop: () => Promise<void> } {
  const stop = new AbortController();
  const loop = runWorkerLoop({
    backend: ctx.queue.backend!,
    registry: ctx.queue.registry,
    concurrency: settings.concurrency ?? 4,
    pollIntervalMs: settings.pollIntervalMs ?? 50,
    leaseMs: settings.leaseMs ?? 5000,
    tags: settings.tags ?? [],
    signal: stop.signal,
    logger: settings.logger ?? silentLogger,
  });
  return {
    stop: async () => {
      stop.abort();
      await loop;
    },
  };
}

/**
 * Runs a worker loop until `until()` holds (checked every 10 ms) or `timeoutMs` passes (20 s by
 * default: it returns as soon as `until()` holds, so only a loaded machine waits that long), then
 * stops it.
 */
export async function runUntil(
  ctx: AppContext,
  until: () => boolean | Promise<boolean>,
  options: LoopSettings & { timeoutMs?: number } = {},
): Promise<void> {
  const loop = startLoop(ctx, options);
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (Date.now() < deadline && !(await until())) await sleep(10);
  await loop.stop();
}

/** Resolves once `done()` holds (checked every 20 ms); throws after `timeoutMs`. */
/**
 * How soon a woken worker must start a job in the wake-up tests: far under the 5-10 s waits and
 * poll intervals they set, so a job that starts within it was woken (not found by a poll), and far
 * over what a loaded CI machine adds to a wake-up's few milliseconds.
 */
export const WOKEN_WITHIN_MS = 2000;

export async function waitUntil(done: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`waitUntil: not done within ${timeoutMs} ms`);
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts `test/fixtures/worker-process.ts` against a store; resolves with the child once it printed `line`. */
export function spawnWorkerProcess(
  queueConfig: StoreConfig,
  env: Record<string, string>,
  waitFor: RegExp,
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/fixtures/worker-process.ts')], {
    env: { ...process.env, LOCO_TEST_QUEUE: JSON.stringify(queueConfig), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker process did not print ${waitFor} within 20 s; output:\n${output}`));
    }, 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (waitFor.test(output)) {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!waitFor.test(output))
        reject(new Error(`worker process exited (${code}) before printing ${waitFor}; output:\n${output}`));
    });
  });
}

/** Runs `test/fixtures/enqueue-process.ts` against a store; resolves with the ids it printed. */
export async function runEnqueueProcess(queueConfig: StoreConfig, env: Record<string, string>): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/fixtures/enqueue-process.ts')], {
    env: { ...process.env, LOCO_TEST_QUEUE: JSON.stringify(queueConfig), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await exited(child);
  if (code !== 0) throw new Error(`enqueue process exited ${code}:\n${output}`);
  return JSON.parse(output.trim().split('\n').at(-1)!);
}

/** Resolves with the exit code once the child has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
