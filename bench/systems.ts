/**
 * The loco backends under test: the config each is booted with, and how each store is made
 * fresh and empty before a scenario and cleaned after it.
 */
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type LocoConfig, validateConfig } from '../runtime/src/internals.js';

/** The backends, by the names `--only` takes. */
export const SYSTEM_KEYS = ['sqlite', 'postgres', 'redis', 'async'] as const;
export type SystemKey = (typeof SYSTEM_KEYS)[number];

export interface LocoSystem {
  key: SystemKey;
  /** The row name in tables and JSON: `loco-<key>`. */
  name: string;
  /** What the peers' `settings` says about each of them, said about this one. */
  settings: Record<string, string>;
  /** Makes the store fresh and empty and returns the config to boot with. */
  setup(): Promise<LocoConfig>;
  /** Removes what the scenario left in the store. */
  teardown(): Promise<void>;
}

const PG_USER = process.env.BENCH_PGUSER || 'postgres';
const PG_DATABASE = process.env.BENCH_PGDATABASE || 'test';
export const PG_SCHEMA = 'bench_loco';
export const REDIS_PREFIX = 'bench-loco';
const PG_URI = `postgres://${encodeURIComponent(PG_USER)}@127.0.0.1:5432/${encodeURIComponent(PG_DATABASE)}?schema=${PG_SCHEMA}`;
const REDIS_URI = `redis://127.0.0.1:6379?prefix=${REDIS_PREFIX}`;

/** The config a user would write: the durable defaults, `num_workers` set to the concurrency. */
function config(kind: string, uri: string, concurrency: number): LocoConfig {
  return validateConfig(
    { workers: { mode: 'BackgroundQueue' }, queue: { kind, uri, num_workers: concurrency } },
    `bench config (${kind})`,
  );
}

const QUEUE_MODE_WORKER = (c: number) =>
  `boot(App, { config }) then booted.runWorkers({ tags: [], signal }) as loco start --worker does; num_workers ${c}, ` +
  'poll_interval_sec and lease_sec at their defaults (1 s, 30 s), retry default (3 attempts)';

function sqlite(concurrency: number): LocoSystem {
  let serial = 0;
  let file = '';
  const remove = () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  };
  const cfg = () => config('Sqlite', `sqlite://${file}?mode=rwc`, concurrency);
  return {
    key: 'sqlite',
    name: 'loco-sqlite',
    settings: {
      store: `SQLite file in ${os.tmpdir()}, fresh per scenario (the runtime sets WAL, synchronous=NORMAL)`,
      enqueue: 'BenchWorker.performLater(ctx, data); batch = BenchWorker.performLaterMany(ctx, [...])',
      worker: QUEUE_MODE_WORKER(concurrency),
      latency: 'producer and worker loop in one process: the enqueue wakes the idle loop in-process',
    },
    async setup() {
      file = path.join(os.tmpdir(), `bench-loco-${process.pid}-${++serial}.sqlite`);
      remove();
      return cfg();
    },
    async teardown() {
      remove();
    },
  };
}

async function dropPgSchema(): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: PG_USER, database: PG_DATABASE });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE`);
  } finally {
    await client.end();
  }
}

function postgres(concurrency: number): LocoSystem {
  const cfg = () => config('Postgres', PG_URI, concurrency);
  return {
    key: 'postgres',
    name: 'loco-postgres',
    settings: {
      store: `PostgreSQL ${PG_URI}; the schema is dropped before and after every scenario`,
      enqueue: 'BenchWorker.performLater(ctx, data); batch = BenchWorker.performLaterMany(ctx, [...])',
      worker: `${QUEUE_MODE_WORKER(concurrency)}; max_connections default (10)`,
    },
    async setup() {
      await dropPgSchema();
      return cfg();
    },
    teardown: dropPgSchema,
  };
}

async function deleteRedisKeys(): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${REDIS_PREFIX}}:*`, 'COUNT', 1000);
      if (keys.length > 0) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

function redis(concurrency: number): LocoSystem {
  const cfg = () => config('Redis', REDIS_URI, concurrency);
  return {
    key: 'redis',
    name: 'loco-redis',
    settings: {
      store: `Redis ${REDIS_URI}; keys {${REDIS_PREFIX}}:* are deleted before and after every scenario`,
      enqueue: 'BenchWorker.performLater(ctx, data); batch = BenchWorker.performLaterMany(ctx, [...])',
      worker: QUEUE_MODE_WORKER(concurrency),
    },
    async setup() {
      await deleteRedisKeys();
      return cfg();
    },
    teardown: deleteRedisKeys,
  };
}

function inProcess(concurrency: number): LocoSystem {
  const cfg = () =>
    validateConfig(
      { workers: { mode: 'BackgroundAsync' }, queue: { num_workers: concurrency } },
      'bench config (async)',
    );
  return {
    key: 'async',
    name: 'loco-async',
    settings: {
      store: 'none: workers.mode BackgroundAsync, jobs kept in process memory (the last 1000 finished ones are kept)',
      enqueue: 'BenchWorker.performLater(ctx, data) while the pool runs; batch = performLaterMany',
      worker: `the in-process pool boot() starts, num_workers ${concurrency}`,
      drain:
        'jobs seeded with performLaterMany inside connectWorkers, before boot() starts the pool; ' +
        'the timer runs from the end of connectWorkers to the N-th handler call',
    },
    setup: async () => cfg(),
    teardown: async () => {},
  };
}

export function makeSystem(key: SystemKey, concurrency: number): LocoSystem {
  switch (key) {
    case 'sqlite':
      return sqlite(concurrency);
    case 'postgres':
      return postgres(concurrency);
    case 'redis':
      return redis(concurrency);
    case 'async':
      return inProcess(concurrency);
  }
}
