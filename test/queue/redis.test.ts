// The backend contract and the multi-process drain, run on Redis (127.0.0.1:6379, or
// LOCO_TEST_REDIS_URI). Each test gets a key prefix of its own, whose keys are deleted afterwards.
import { Redis } from 'ioredis';
import { validateConfig } from '../../runtime/src/config/schema.js';
import { createBackend, type QueueBackend, type QueueConfig } from '../../runtime/src/index.js';
import { deleteQueueKeys } from '../../runtime/src/queue/redis/keys.js';
import { runContract, type BackendUnderTest } from './contract.js';
import { ROOT } from './helpers.js';
import { runMultiProcess } from './multi-process.js';

const BASE_URI = process.env.LOCO_TEST_REDIS_URI ?? 'redis://127.0.0.1:6379/0';
let prefix = '';
let serial = 0;

const config = (): QueueConfig =>
  validateConfig(
    { workers: { mode: 'BackgroundQueue' }, queue: { kind: 'Redis', uri: `${BASE_URI}?prefix=${prefix}`, num_workers: 4 } },
    'test',
  ).queue!;

async function connect(): Promise<QueueBackend> {
  const backend = await createBackend(config(), ROOT);
  await backend.init({ flush: false });
  return backend;
}

const redis: BackendUnderTest = {
  name: 'redis',
  async open() {
    prefix = `loco-test-${process.pid}-${++serial}`;
    return connect();
  },
  openAnother: connect,
  queueConfig: config,
  async cleanup() {
    const admin = new Redis(BASE_URI);
    try {
      await deleteQueueKeys(admin, prefix);
    } finally {
      await admin.quit();
    }
  },
};

runContract(redis);
runMultiProcess(redis);
