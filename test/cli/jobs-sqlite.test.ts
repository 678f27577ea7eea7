// The loco jobs suite on SQLite files in a temp folder, one per test.
import { sqliteStore } from '../stores.js';
import { runJobsCli } from './jobs-suite.js';

const store = sqliteStore('cli');
runJobsCli({
  name: store.name,
  fresh: async () => ({ kind: store.kind, uri: store.fresh() }),
  cleanup: () => store.drop(),
});
