import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BackgroundWorker,
  Queue,
  runWorkerLoop,
  type AppContext,
  type QueueBackend,
  type QueueConfig,
  type RetryPolicy,
} from '../../runtime/src/index.js';
import { validateConfig } from '../../runtime/src/config/schema.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A context around a queue, enough for workers in tests. */
export function testContext(
  backend: QueueBackend | undefined,
  mode: 'BackgroundQueue' | 'ForegroundBlocking' = 'BackgroundQueue',
): AppContext {
  const queue = new Queue(mode, backend);
  return { environment: 'test', config: validateConfig({ workers: { mode } }, 'test.yaml'), queue, root: ROOT };
}

/** Records every call, per job name. */
export class Calls {
  readonly seen: Array<{ name: string; args: unknown }> = [];
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

/** Takes `ms` milliseconds. */
export class SlowWorker extends BackgroundWorker<{ ms: number }> {
  async perform(args: { ms: number }): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, args.ms));
    calls.seen.push({ name: 'SlowWorker', args });
  }
}

/** Runs a worker loop until `until()` holds (checked every 10 ms) or `timeoutMs` passes, then stops it. */
export async function runUntil(
  ctx: AppContext,
  until: () => boolean | Promise<boolean>,
  options: {
    tags?: string[];
    concurrency?: number;
    leaseMs?: number;
    timeoutMs?: number;
    pollIntervalMs?: number;
  } = {},
): Promise<void> {
  const stop = new AbortController();
  const loop = runWorkerLoop({
    backend: ctx.queue.backend!,
    queue: ctx.queue,
    concurrency: options.concurrency ?? 4,
    pollIntervalMs: options.pollIntervalMs ?? 50,
    leaseMs: options.leaseMs ?? 5000,
    tags: options.tags ?? [],
    signal: stop.signal,
    logger: { info: () => undefined, error: () => undefined },
  });
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  while (Date.now() < deadline && !(await until())) await sleep(10);
  stop.abort();
  await loop;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts `test/fixtures/worker-process.ts` against a store; resolves with the child once it printed `line`. */
export function spawnWorkerProcess(
  queueConfig: QueueConfig,
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

/** Resolves with the exit code once the child has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
