/** loco-runtime: background workers for TypeScript back ends. */
export { BackgroundWorker, DEFAULT_RETRY, parseDuration, upperCamelCase } from './worker.js';
export type { ArgsOf, Duration, EnqueueOptions, RetryPolicy, WorkerClass } from './worker.js';
export { Queue } from './queue.js';
export type { EnqueueByNameOptions } from './queue.js';
export type { AppContext, AppDefinition, Hooks } from './context.js';
export { boot, resolveHooks } from './boot.js';
export { Task, TaskRegistry, TaskVars } from './task.js';
export type { BootedApp, BootOptions } from './boot.js';
export { loadConfig, resolveEnvironment } from './config/load.js';
export { renderConfigTemplate } from './config/render.js';
export { validateConfig, QUEUE_KINDS, WORKER_MODES } from './config/schema.js';
export type { LocoConfig, QueueConfig, QueueKind, ServerConfig, WorkerMode, WorkersConfig } from './config/schema.js';
export { runWorkerLoop } from './worker-loop.js';
export type { WorkerLogger, WorkerLoopOptions } from './worker-loop.js';
export { createBackend } from './queue/create.js';
export { InProcessBackend } from './queue/memory.js';
export { JOB_STATUSES } from './queue/backend.js';
export type {
  ClaimedJob,
  ClaimFilter,
  ClaimRequest,
  JobOutcome,
  JobQuery,
  JobRecord,
  JobStatus,
  NewJob,
  QueueBackend,
} from './queue/backend.js';
export { ArgsError, ConfigError, LocoError, QueueConnectionError, RegistryError } from './errors.js';
export { createHttpApp, listen } from './server.js';
