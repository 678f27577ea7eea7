// The loco jobs suite on Redis (127.0.0.1:6379, or LOCO_TEST_REDIS_URI). Each test gets a key
// prefix of its own, whose keys are deleted afterwards.
import { redisStore } from '../../stores.js';
import { runJobsCli } from './suite.js';

runJobsCli(redisStore('cli'));
