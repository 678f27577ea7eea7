// The backend contract and the multi-process drain, run on Redis (127.0.0.1:6379, or
// LOCO_TEST_REDIS_URI). Each test gets a key prefix of its own, whose keys are deleted afterwards.
import { redisStore } from '../../stores.js';
import { backendUnderTest, runContract } from '../contract.js';
import { runMultiProcess } from '../multi-process.js';

const backend = backendUnderTest(redisStore('test'));
runContract(backend);
runMultiProcess(backend);
