import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { RetryPolicy } from './retry.js';

/** At most `max` job starts in any window of `perMs` milliseconds (a sliding window), across all processes. */
export interface RateLimit {
  max: number;
  perMs: number;
}

/** What the queue calls on a worker instance: its `perform`. */
export interface WorkerInstance<A = unknown> {
  perform(args: A, signal: AbortSignal): Promise<void>;
}

/**
 * The static side of a worker class: what the queue needs to know about it. `BackgroundWorker`
 * subclasses have it; the registry reads it once, at `register`.
 */
export interface WorkerClass<W extends WorkerInstance = WorkerInstance> {
  new (ctx: never): W;
  /** The class's own name, for messages. */
  readonly name: string;
  className(): string;
  queue(): string | undefined;
  tags(): string[];
  retry(): RetryPolicy;
  timeoutMs(): number | undefined;
  priority(): number;
  uniqueKey(args: never): string | undefined;
  concurrency(): number | undefined;
  concurrencyKey(args: never): string | undefined;
  rateLimit(): RateLimit | undefined;
  /** Whether `perform` runs in a worker thread of the sandbox pool instead of the main thread. */
  sandbox(): boolean;
  /** The URL of the module that exports the class (`import.meta.url`): what a sandbox thread imports. */
  readonly moduleUrl?: string;
  /** A Standard Schema (zod, valibot, arktype, ...) the args must pass; `perform` gets its output. */
  readonly argsSchema?: StandardSchemaV1;
}

/** The args type of a worker instance type: what its `perform` receives. */
export type ArgsOf<W> = W extends WorkerInstance<infer A> ? A : never;

/**
 * What `performLater` takes for a worker class: the schema's input type when the class declares
 * an `argsSchema` (its `perform` receives the schema's output), otherwise its `perform` args.
 */
export type InputOf<T> = T extends { readonly argsSchema: StandardSchemaV1<infer I, unknown> }
  ? I
  : T extends new (
        ctx: never,
      ) => infer W
    ? ArgsOf<W>
    : never;
