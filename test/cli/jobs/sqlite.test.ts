// The loco jobs suite on SQLite files in a temp folder, one per test.
import { sqliteStore } from '../../stores.js';
import { runJobsCli } from './suite.js';

runJobsCli(sqliteStore('cli'));
