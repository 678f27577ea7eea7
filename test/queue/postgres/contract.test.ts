// The backend contract and the multi-process drain, run on PostgreSQL (127.0.0.1:5432, or
// LOCO_TEST_POSTGRES_URI). Each test gets a schema of its own, dropped afterwards.
import { postgresStore } from '../../stores.js';
import { backendUnderTest, runContract } from '../contract.js';
import { runMultiProcess } from '../multi-process.js';

const backend = backendUnderTest(postgresStore('test'));
runContract(backend);
runMultiProcess(backend);
