// The backend contract and the multi-process drain on a Redis Cluster of three masters that this
// file starts on free ports of 127.0.0.1 (and stops, by PID, when the tests end or fail): every
// key of a queue lies in one hash slot, so no script meets CROSSSLOT, and SCAN-based verbs
// (dangerously_flush, purge) reach every master. Each test gets a key prefix of its own.
import { redisClusterStore } from '../../stores.js';
import { backendUnderTest, runContract } from '../contract.js';
import { runMultiProcess } from '../multi-process.js';
import { startLocalCluster } from './local-cluster.js';

const cluster = await startLocalCluster(3);
const backend = backendUnderTest(redisClusterStore('cluster', cluster.uri, cluster.nodes));
runContract(backend);
runMultiProcess(backend);
