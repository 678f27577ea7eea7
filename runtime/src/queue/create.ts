import type { StoreConfig } from '../config/schema.js';
import type { QueueBackend, StoreOptions } from './backend.js';

/**
 * Creates the backend for a `queue:` config that names a store (not yet initialised). Each
 * store's client library is loaded only when that store is configured.
 */
export async function createBackend(config: StoreConfig, options: StoreOptions): Promise<QueueBackend> {
  switch (config.kind) {
    case 'Sqlite': {
      const { SqliteBackend } = await import('./sqlite/backend.js');
      return new SqliteBackend(config, options);
    }
    case 'Postgres': {
      const { PostgresBackend } = await import('./postgres/backend.js');
      return new PostgresBackend(config, options);
    }
    case 'Redis': {
      const { RedisBackend } = await import('./redis/backend.js');
      return new RedisBackend(config, options);
    }
  }
}
