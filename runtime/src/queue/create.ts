import type { QueueConfig } from '../config/schema.js';
import type { QueueBackend } from './backend.js';

/**
 * Creates the backend for a `queue:` config (not yet initialised). Each store's client library is
 * loaded only when that store is configured.
 */
export async function createBackend(config: QueueConfig, root: string): Promise<QueueBackend> {
  switch (config.kind) {
    case 'Sqlite': {
      const { SqliteBackend, parseSqliteUri } = await import('./sqlite.js');
      return new SqliteBackend(parseSqliteUri(config.uri, root), config.uri);
    }
    case 'Postgres': {
      const { PostgresBackend } = await import('./postgres.js');
      return new PostgresBackend(config);
    }
    case 'Redis': {
      const { RedisBackend } = await import('./redis.js');
      return new RedisBackend(config);
    }
    default:
      throw new Error(`queue.kind ${config.kind} is not available in this build.`);
  }
}
