import type { RetryPolicy } from './retry.js';

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
}

/** The args type of a worker instance type. */
export type ArgsOf<W> = W extends WorkerInstance<infer A> ? A : never;
