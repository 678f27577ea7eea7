import { Cluster, Redis } from 'ioredis';
import type { RedisClient } from './keys.js';
import type { RedisLocation } from './uri.js';

/** How one connection of the Redis backend behaves, whether to one server or to a cluster. */
export interface ConnectionSettings {
  /** The name the connection shows in `CLIENT LIST` (on every node of a cluster). */
  connectionName: string;
  /** How long connecting may take, in ms. */
  connectTimeout: number;
  /** ms to wait before reconnecting after the `times`-th failed attempt, or null to give up. */
  retryStrategy: (times: number) => number | null;
}

/**
 * Commands wait through about this many reconnection attempts (some ten seconds), then fail and
 * the loop reports it.
 */
const MAX_RETRIES_PER_REQUEST = 20;

/**
 * A connection (not yet connected: `connect()` or the first command opens it) to the server of a
 * `redis://` location, or an ioredis `Cluster` for a `redis+cluster://` one, which learns the
 * slots from the nodes given, opens a connection per master it needs, and follows MOVED and ASK
 * redirections when slots move.
 */
export function createConnection(location: RedisLocation, settings: ConnectionSettings): RedisClient {
  const options = {
    ...location.options,
    connectTimeout: settings.connectTimeout,
    connectionName: settings.connectionName,
    maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
  };
  if (!location.nodes) return new Redis({ ...options, lazyConnect: true, retryStrategy: settings.retryStrategy });
  const { host: _host, port: _port, db: _db, ...nodeOptions } = options;
  return new Cluster(location.nodes, {
    lazyConnect: true,
    redisOptions: nodeOptions,
    clusterRetryStrategy: settings.retryStrategy,
    // A node that drops its connection (restarted, failed over) is reconnected like a single server.
    clusterNodeRetryStrategy: settings.retryStrategy,
    slotsRefreshTimeout: settings.connectTimeout,
  });
}
