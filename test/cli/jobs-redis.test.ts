// The loco jobs suite on Redis (127.0.0.1:6379, or LOCO_TEST_REDIS_URI). Each test gets a key
// prefix of its own, whose keys are deleted afterwards.
import { Redis } from 'ioredis';
import { deleteQueueKeys } from '../../runtime/src/queue/redis/keys.js';
import { runJobsCli } from './jobs-suite.js';

const BASE_URI = process.env.LOCO_TEST_REDIS_URI ?? 'redis://127.0.0.1:6379/0';
let prefix = '';
let serial = 0;

runJobsCli({
  name: 'redis',
  async fresh() {
    prefix = `loco-cli-${process.pid}-${++serial}`;
    return { kind: 'Redis', uri: `${BASE_URI}?prefix=${prefix}` };
  },
  async cleanup() {
    const admin = new Redis(BASE_URI);
    try {
      await deleteQueueKeys(admin, prefix);
    } finally {
      await admin.quit();
    }
  },
});
