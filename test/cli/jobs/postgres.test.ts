// The loco jobs suite on PostgreSQL (127.0.0.1:5432, or LOCO_TEST_POSTGRES_URI). Each test gets a
// schema of its own, dropped afterwards.
import { postgresStore } from '../../stores.js';
import { runJobsCli } from './suite.js';

runJobsCli(postgresStore('cli'));
