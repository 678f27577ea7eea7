/**
 * The messages between the sandbox pool (main thread) and its threads. Everything crosses by
 * structured clone, so values are plain data; errors travel as `SandboxError`.
 */
import type { LocoConfig } from '../config/schema.js';
import type { LogLevel } from '../logger.js';

/** An error thrown in a thread, as data: an `Error`'s name, message, stack and code, or a thrown non-Error. */
export type SandboxError =
  | { kind: 'error'; name: string; message: string; stack: string | undefined; code?: string | number }
  | { kind: 'value'; value: unknown };

/** What a sandboxed worker's `this.ctx` is made of, besides the logger and queue proxies. */
export interface SandboxContextData {
  environment: string;
  config: LocoConfig;
  root: string;
  appName: string;
}

/** Main thread to a thread. */
export type ToThread =
  | {
      type: 'load';
      /** This request's number, echoed in the reply (`done` once loaded). */
      run: number;
      moduleUrl: string;
      name: string;
      context: SandboxContextData;
    }
  | {
      type: 'run';
      /** This run's number, echoed in the reply. */
      run: number;
      /** The module exporting the worker class. */
      moduleUrl: string;
      /** The job name: the class is the export whose `className()` gives it. */
      name: string;
      args: unknown;
      context: SandboxContextData;
    }
  | { type: 'enqueued'; request: number; result?: unknown; error?: SandboxError };

/** A thread to the main thread. */
export type FromThread =
  | { type: 'done'; run: number }
  | { type: 'failed'; run: number; error: SandboxError }
  | { type: 'log'; level: LogLevel; fields: Record<string, unknown>; message: string }
  | {
      type: 'enqueue';
      request: number;
      /** The job name of the worker class passed to `performLater` / `performLaterMany`. */
      name: string;
      many: boolean;
      args: unknown;
      options: unknown;
    };

/** Turns anything thrown into data that survives `postMessage`. */
export function toSandboxError(err: unknown): SandboxError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      kind: 'error',
      name: err.name,
      message: err.message,
      stack: err.stack,
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    };
  }
  try {
    structuredClone(err);
    return { kind: 'value', value: err };
  } catch {
    return { kind: 'value', value: String(err) };
  }
}

/** The thrown value again, on this side: an `Error` with the thread's name, message and stack, or the value. */
export function fromSandboxError(error: SandboxError): unknown {
  if (error.kind === 'value') return error.value;
  const err = new Error(error.message);
  err.name = error.name;
  err.stack = error.stack ?? `${error.name}: ${error.message}`;
  if (error.code !== undefined) Object.assign(err, { code: error.code });
  return err;
}
