/**
 * loco-runtime: background workers for TypeScript back ends. What an app imports; the worker
 * loop, the stores and the CLI are internals (tests reach them by path).
 */
export type { EnqueueByNameOptions, Enqueued, EnqueueManyOptions, EnqueueOptions, Queue } from './app-queue.js';
export { type BootedApp, type BootOptions, boot } from './boot.js';
export { loadConfig, resolveEnvironment } from './config/load.js';
export type {
  LocoConfig,
  LoggerConfig,
  QueueConfig,
  QueueKind,
  ServerConfig,
  WorkerMode,
  WorkersConfig,
} from './config/schema.js';
export type { AppContext } from './context.js';
export { type Duration, parseDuration } from './duration.js';
export { ArgsError, ConfigError, LocoError, QueueConnectionError, RegistryError } from './errors.js';
export type { AppDefinition, Hooks } from './hooks.js';
export { MAX_KEY_LENGTH, MAX_PRIORITY, MIN_PRIORITY } from './job-limits.js';
export { createLogger, type Logger, type LoggerOptions, type LogLevel } from './logger.js';
export { JOB_STATUSES, type JobRecord, type JobStatus, type OnConflict, type PauseTarget } from './queue/backend.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export { Task, TaskRegistry, TaskVars } from './task.js';
export { BackgroundWorker } from './worker.js';
export type { ArgsOf, InputOf, RateLimit, WorkerClass } from './worker-class.js';
