/**
 * The runtime's internals, for its own tests and benchmark: not part of the package's exports
 * (`loco-runtime` and `loco-runtime/testing` are), so apps cannot come to depend on them.
 */

export { Queue } from './app-queue.js';
export { renderConfigTemplate } from './config/render.js';
export { QUEUE_DEFAULTS, type StoreConfig, storeConfig, validateConfig } from './config/schema.js';
export * from './index.js';
export { silentLogger } from './logger.js';
export type {
  BackendCapabilities,
  ClaimedJob,
  ClaimFilter,
  ClaimRequest,
  EnqueueRequest,
  EnqueueResult,
  InitOptions,
  JobCount,
  JobOutcome,
  JobQuery,
  NewJob,
  PauseTarget,
  QueueBackend,
  RemoveQuery,
  RetryQuery,
  StoreOptions,
  WorkerLimits,
} from './queue/backend.js';
export { createBackend } from './queue/create.js';
export { InProcessBackend } from './queue/memory/backend.js';
export { failed, interrupted, LEASE_EXPIRED_ERROR, succeeded } from './queue/outcome.js';
export { type RegisteredWorker, WorkerRegistry } from './registry.js';
export { backoffDelay } from './retry.js';
export { upperCamelCase } from './worker.js';
export type { WorkerInstance } from './worker-class.js';
export { PREFETCH_PER_SLOT, runWorkerLoop, type WorkerLoopOptions, type WorkerLoopResult } from './worker-loop.js';
