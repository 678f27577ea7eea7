/**
 * `this.ctx` of a worker inside a sandbox thread: the app's plain settings, a logger whose lines
 * go to the main thread's logger, and a queue that asks the main thread to enqueue.
 */
import type { MessagePort } from 'node:worker_threads';
import type { AppContext } from '../context.js';
import { LOG_LEVELS, type Logger } from '../logger.js';
import type { WorkerClass } from '../worker-class.js';
import type { FromThread, SandboxContextData } from './protocol.js';

/** What a sandboxed `ctx.queue` offers; every other member throws, naming what is available. */
const QUEUE_MEMBERS = ['performLater', 'performLaterMany'];

/** Builds a sandbox thread's context; `settle` is called with each `enqueued` reply. */
export function sandboxContext(
  port: MessagePort,
  data: SandboxContextData,
): { ctx: AppContext; settle(request: number, result: unknown, error: unknown): void } {
  const pending = new Map<number, { resolve(value: unknown): void; reject(err: unknown): void }>();
  let requests = 0;
  const enqueue = (type: WorkerClass, many: boolean, args: unknown, options: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      const request = ++requests;
      pending.set(request, { resolve, reject });
      const message: FromThread = { type: 'enqueue', request, name: type.className(), many, args, options };
      try {
        port.postMessage(message);
      } catch (err) {
        pending.delete(request);
        reject(err);
      }
    });
  const target = {
    performLater: (type: WorkerClass, args: unknown, options?: unknown) => enqueue(type, false, args, options),
    performLaterMany: (type: WorkerClass, argsList: unknown[], options?: unknown) =>
      enqueue(type, true, argsList, options),
  };
  const queue = new Proxy(target, {
    get(object, property) {
      if (typeof property !== 'string' || QUEUE_MEMBERS.includes(property) || property === 'then') {
        return Reflect.get(object, property);
      }
      return () => {
        throw new Error(
          `ctx.queue.${property} is not available inside a sandboxed perform (static sandbox() is true): the ` +
            `sandbox's queue offers ${QUEUE_MEMBERS.join(' and ')} only. Do the rest outside the sandbox, or ` +
            'run this worker in the main thread.',
        );
      };
    },
  });
  const ctx = {
    ...data,
    logger: forwardingLogger(port, {}),
    queue,
  } as unknown as AppContext;
  return {
    ctx,
    settle(request, result, error) {
      const waiting = pending.get(request);
      if (!waiting) return;
      pending.delete(request);
      if (error === undefined) waiting.resolve(result);
      else waiting.reject(error);
    },
  };
}

/** A logger whose every line is posted to the main thread (with `bindings`), where the process's logger writes it. */
function forwardingLogger(port: MessagePort, bindings: Record<string, unknown>): Logger {
  const logger = { child: (more: Record<string, unknown>) => forwardingLogger(port, { ...bindings, ...more }) };
  for (const level of LOG_LEVELS) {
    Object.assign(logger, {
      [level]: (first: object | string, second?: string) => {
        const fields = typeof first === 'string' ? { ...bindings } : { ...bindings, ...first };
        const message = typeof first === 'string' ? first : (second ?? '');
        const line: FromThread = { type: 'log', level, fields, message };
        try {
          port.postMessage(line);
        } catch {
          // A field that cannot be cloned (a function, a socket) is sent as its text instead.
          const plain = Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, cloneable(value)]));
          port.postMessage({ ...line, fields: plain });
        }
      },
    });
  }
  return logger as Logger;
}

/** `value` if it survives structured clone, else its text. */
function cloneable(value: unknown): unknown {
  try {
    structuredClone(value);
    return value;
  } catch {
    return String(value);
  }
}
