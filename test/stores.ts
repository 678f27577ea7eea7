// The real stores the tests run against, each handing out a fresh, empty store per test (a
// SQLite file, a Postgres schema, a Redis key prefix) and removing it afterwards.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import type { QueueKind } from '../runtime/src/internals.js';
import { deleteQueueKeys } from '../runtime/src/queue/redis/keys.js';

/** One kind of store, a fresh one at a time. */
export interface TestStore {
  name: string;
  kind: QueueKind;
  /** Picks a new, empty store and returns its `queue.uri`. */
  fresh(): string;
  /** The `queue.uri` of the store picked last. */
  uri(): string;
  /** Removes the store picked last. */
  drop(): Promise<void>;
  /** The `queue.uri` of a store nothing has created (and whether something created it since). */
  unused(): { uri: string; exists(): Promise<boolean> };
}

/** SQLite files in a temp folder, removed when the process exits. */
export function sqliteStore(label: string): TestStore {
  const folder = mkdtempSync(path.join(os.tmpdir(), `loco-${label}-sqlite-`));
  process.on('exit', () => rmSync(folder, { recursive: true, force: true }));
  let file = '';
  let serial = 0;
  return {
    name: 'sqlite',
    kind: 'Sqlite',
    fresh: () => {
      file = path.join(folder, `queue-${++serial}.sqlite`);
      return `sqlite://${file}?mode=rwc`;
    },
    uri: () => `sqlite://${file}?mode=rwc`,
    async drop() {
      for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    },
    unused: () => {
      const absent = path.join(folder, `unused-${++serial}.sqlite`);
      return { uri: `sqlite://${absent}?mode=rwc`, exists: async () => existsSync(absent) };
    },
  };
}

/** The test database: 127.0.0.1:5432 (or LOCO_TEST_POSTGRES_URI). */
export const POSTGRES_URI = process.env.LOCO_TEST_POSTGRES_URI ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Runs `work` on a client of its own to the test database, closed afterwards. */
export async function postgresAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URI });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Schemas in the test database, dropped afterwards. */
export function postgresStore(label: string): TestStore {
  const base = POSTGRES_URI;
  let schema = '';
  let serial = 0;
  return {
    name: 'postgres',
    kind: 'Postgres',
    fresh: () => {
      schema = `loco_${label}_${process.pid}_${++serial}`;
      return `${base}?schema=${schema}`;
    },
    uri: () => `${base}?schema=${schema}`,
    async drop() {
      await postgresAdmin((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    },
    unused: () => {
      const absent = `loco_${label}_${process.pid}_unused_${++serial}`;
      return {
        uri: `${base}?schema=${absent}`,
        exists: () =>
          postgresAdmin(async (client) => {
            const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [absent]);
            return Boolean(rowCount);
          }),
      };
    },
  };
}

/** Key prefixes on the Redis at 127.0.0.1:6379 (or LOCO_TEST_REDIS_URI), whose keys are deleted afterwards. */
export function redisStore(label: string): TestStore {
  const base = process.env.LOCO_TEST_REDIS_URI ?? 'redis://127.0.0.1:6379/0';
  let prefix = '';
  let serial = 0;
  return {
    name: 'redis',
    kind: 'Redis',
    fresh: () => {
      prefix = `loco-${label}-${process.pid}-${++serial}`;
      return `${base}?prefix=${prefix}`;
    },
    uri: () => `${base}?prefix=${prefix}`,
    async drop() {
      const admin = new Redis(base);
      try {
        await deleteQueueKeys(admin, prefix);
      } finally {
        await admin.quit();
      }
    },
    unused: () => {
      const absent = `loco-${label}-${process.pid}-unused-${++serial}`;
      return {
        uri: `${base}?prefix=${absent}`,
        exists: async () => {
          const admin = new Redis(base);
          try {
            return (await admin.scan('0', 'MATCH', `{${absent}}:*`, 'COUNT', 1000))[1].length > 0;
          } finally {
            await admin.quit();
          }
        },
      };
    },
  };
}

/** Key prefixes on a Redis Cluster (`redis+cluster://` URI with `{prefix}` to fill), whose keys are deleted afterwards. */
export function redisClusterStore(label: string, uriOf: (prefix: string) => string, nodes: string[]): TestStore {
  let prefix = '';
  let serial = 0;
  const admin = async <T>(work: (cluster: Cluster) => Promise<T>): Promise<T> => {
    const cluster = new Cluster(
      nodes.map((node) => ({ host: node.split(':')[0], port: Number(node.split(':')[1]) })),
      { lazyConnect: true },
    );
    // Connected, the cluster knows its masters, which the SCANs below go through.
    await cluster.connect();
    try {
      return await work(cluster);
    } finally {
      await cluster.quit();
    }
  };
  return {
    name: 'redis cluster',
    kind: 'Redis',
    fresh: () => {
      prefix = `loco-${label}-${process.pid}-${++serial}`;
      return uriOf(prefix);
    },
    uri: () => uriOf(prefix),
    async drop() {
      await admin((cluster) => deleteQueueKeys(cluster, prefix));
    },
    unused: () => {
      const absent = `loco-${label}-${process.pid}-unused-${++serial}`;
      return {
        uri: uriOf(absent),
        exists: () =>
          admin(async (cluster) => {
            for (const node of cluster.nodes('master')) {
              if ((await node.scan('0', 'MATCH', `{${absent}}:*`, 'COUNT', 1000))[1].length > 0) return true;
            }
            return false;
          }),
      };
    },
  };
}
