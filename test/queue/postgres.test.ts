// The backend contract and the multi-process drain, run on PostgreSQL (127.0.0.1:5432, or
// LOCO_TEST_POSTGRES_URI). Each test gets a schema of its own, dropped afterwards.
import pg from 'pg';
import { validateConfig } from '../../runtime/src/config/schema.js';
import { createBackend, type QueueBackend, type QueueConfig } from '../../runtime/src/index.js';
import { runContract, type BackendUnderTest } from './contract.js';
import { ROOT } from './helpers.js';
import { runMultiProcess } from './multi-process.js';

const BASE_URI = process.env.LOCO_TEST_POSTGRES_URI ?? 'postgres://postgres@127.0.0.1:5432/test';
let schema = '';
let serial = 0;

const config = (): QueueConfig =>
  validateConfig(
    { workers: { mode: 'BackgroundQueue' }, queue: { kind: 'Postgres', uri: `${BASE_URI}?schema=${schema}`, num_workers: 4 } },
    'test',
  ).queue!;

async function connect(): Promise<QueueBackend> {
  const backend = await createBackend(config(), ROOT);
  await backend.init({ flush: false });
  return backend;
}

const postgres: BackendUnderTest = {
  name: 'postgres',
  async open() {
    schema = `loco_test_${process.pid}_${++serial}`;
    return connect();
  },
  openAnother: connect,
  queueConfig: config,
  async cleanup() {
    const admin = new pg.Client({ connectionString: BASE_URI });
    await admin.connect();
    try {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await admin.end();
    }
  },
};

runContract(postgres);
runMultiProcess(postgres);
