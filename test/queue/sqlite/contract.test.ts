// The backend contract and the multi-process drain, run on SQLite files in a temp folder, one per test.
import { sqliteStore } from '../../stores.js';
import { backendUnderTest, runContract } from '../contract.js';
import { runMultiProcess } from '../multi-process.js';

const backend = backendUnderTest(sqliteStore('test'));
runContract(backend);
runMultiProcess(backend);
