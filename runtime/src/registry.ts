import type { StandardSchemaV1 } from '@standard-schema/spec';
import { RegistryError } from './errors.js';
import { priorityProblem } from './job-limits.js';
import type { WorkerLimits } from './queue/backend.js';
import type { RetryPolicy } from './retry.js';
import type { WorkerClass, WorkerInstance } from './worker-class.js';

/**
 * A registered worker: what the worker loop and the enqueue path need, read from its class once
 * at `register`, so nothing later casts an instance back to its class.
 */
export interface RegisteredWorker {
  /** The name its jobs are stored under (`className()`). */
  name: string;
  /** The class, for messages (`type.name`). */
  type: WorkerClass;
  /** The instance whose `perform` runs the jobs. */
  instance: WorkerInstance;
  tags: string[];
  queue: string | null;
  retry: RetryPolicy;
  /** Attempts longer than this fail; `undefined` for no limit. */
  timeoutMs: number | undefined;
  /** The default priority of its jobs. */
  priority: number;
  /** The unique key of a job with these args (`uniqueKey()`), or `undefined`. */
  uniqueKey: (args: unknown) => string | undefined;
  /** The schema its args must pass, if it declares one. */
  argsSchema: StandardSchemaV1 | undefined;
  /** The concurrency key of a job with these args (`concurrencyKey()`), or `undefined`. */
  concurrencyKey: (args: unknown) => string | undefined;
  /** Its flow control across processes (`concurrency()`, `rateLimit()`), or `undefined` when it has none. */
  limits: WorkerLimits | undefined;
  /** Where `perform` runs in a sandbox thread (`sandbox()`): the module to import; `undefined` for the main thread. */
  sandbox: { moduleUrl: string } | undefined;
}

/** The app's workers by job name: filled by `connectWorkers`, read by the worker loop and the CLI. */
export class WorkerRegistry {
  private readonly workers = new Map<string, RegisteredWorker>();

  /** Registers a worker instance under its class's `className()`. A second worker of the same name is an error. */
  register(instance: WorkerInstance): RegisteredWorker {
    const type = instance.constructor as WorkerClass;
    const entry = describeWorker(type, instance);
    const existing = this.workers.get(entry.name);
    if (existing) {
      throw new RegistryError(
        `Two workers are registered under the name '${entry.name}': ${existing.type.name} and ${type.name}. ` +
          'Register each worker once, or give one of them another name by overriding static className().',
      );
    }
    this.workers.set(entry.name, entry);
    return entry;
  }

  /** The registered worker for a job name. */
  get(name: string): RegisteredWorker | undefined {
    return this.workers.get(name);
  }

  /** The names of all registered workers. */
  names(): string[] {
    return [...this.workers.keys()];
  }
}

/** Reads a worker class's settings, refusing a `retry()` or `timeoutMs()` that would break the loop later. */
function describeWorker(type: WorkerClass, instance: WorkerInstance): RegisteredWorker {
  const retry = type.retry();
  const whole = (value: unknown, min: number) => Number.isInteger(value) && (value as number) >= min;
  const ms = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0;
  if (!retry || !whole(retry.attempts, 1) || !ms(retry.backoffMs) || !ms(retry.maxBackoffMs)) {
    throw new RegistryError(
      `${type.name}.retry() returned ${JSON.stringify(retry)}; expected { attempts: a whole number >= 1, ` +
        'backoffMs: ms >= 0, maxBackoffMs: ms >= 0 }, for example { attempts: 5, backoffMs: 1000, maxBackoffMs: 60000 }.',
    );
  }
  const timeoutMs = type.timeoutMs();
  if (timeoutMs !== undefined && !(ms(timeoutMs) && timeoutMs > 0)) {
    throw new RegistryError(
      `${type.name}.timeoutMs() returned ${String(timeoutMs)}; expected ms > 0, or undefined for no timeout.`,
    );
  }
  const priority = type.priority();
  const problem = priorityProblem(priority);
  if (problem) throw new RegistryError(`${type.name}.priority(): ${problem}.`);
  const schema = type.argsSchema;
  if (schema !== undefined && typeof schema?.['~standard']?.validate !== 'function') {
    throw new RegistryError(
      `${type.name}.argsSchema is not a Standard Schema (no ~standard.validate); use a zod, valibot or arktype ` +
        'schema, or another validator that implements https://standardschema.dev.',
    );
  }
  const limits = describeLimits(type);
  const sandbox = describeSandbox(type);
  return {
    name: type.className(),
    type,
    instance,
    tags: [...type.tags()],
    queue: type.queue() ?? null,
    retry,
    timeoutMs,
    priority,
    uniqueKey: (args) => type.uniqueKey(args as never),
    argsSchema: schema,
    concurrencyKey: (args) => type.concurrencyKey(args as never),
    limits,
    sandbox,
  };
}

/** A worker's `sandbox()` and `moduleUrl`, checked: a sandbox thread must be able to import the class. */
function describeSandbox(type: WorkerClass): { moduleUrl: string } | undefined {
  const wanted = type.sandbox();
  if (typeof wanted !== 'boolean') {
    throw new RegistryError(`${type.name}.sandbox() returned ${String(wanted)}; expected true or false.`);
  }
  if (!wanted) return undefined;
  const url = type.moduleUrl;
  if (typeof url !== 'string' || !url.startsWith('file:')) {
    throw new RegistryError(
      `${type.name}.sandbox() is true, so its perform runs in a worker thread that imports the class, but ` +
        `${type.name}.moduleUrl is ${url === undefined ? 'not set' : `'${String(url)}'`}; add ` +
        '`static override readonly moduleUrl = import.meta.url;` to the class, and export the class from that module.',
    );
  }
  return { moduleUrl: url };
}

/** A worker's `concurrency()` and `rateLimit()`, checked. */
function describeLimits(type: WorkerClass): WorkerLimits | undefined {
  const concurrency = type.concurrency();
  const rate = type.rateLimit();
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new RegistryError(
      `${type.name}.concurrency() returned ${String(concurrency)}; expected a whole number >= 1, or undefined for no limit.`,
    );
  }
  const whole = (value: unknown, max: number) =>
    Number.isInteger(value) && (value as number) >= 1 && (value as number) <= max;
  if (rate !== undefined && !(rate && whole(rate.max, 1_000_000) && whole(rate.perMs, 86_400_000))) {
    throw new RegistryError(
      `${type.name}.rateLimit() returned ${JSON.stringify(rate)}; expected { max: 1 to 1000000 starts, perMs: 1 to 86400000 ms }, ` +
        'for example { max: 100, perMs: 60_000 }, or undefined for no limit.',
    );
  }
  if (concurrency === undefined && rate === undefined) return undefined;
  return { concurrency, rate };
}
