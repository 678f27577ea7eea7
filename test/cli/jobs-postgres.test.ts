// The loco jobs suite on PostgreSQL (127.0.0.1:5432, or LOCO_TEST_POSTGRES_URI). Each test gets a
// schema of its own, dropped afterwards.
import pg from 'pg';
import { runJobsCli } from './jobs-suite.js';

const BASE_URI = process.env.LOCO_TEST_POSTGRES_URI ?? 'postgres://postgres@127.0.0.1:5432/test';
let schema = '';
let serial = 0;

runJobsCli({
  name: 'postgres',
  async fresh() {
    schema = `loco_cli_${process.pid}_${++serial}`;
    return { kind: 'Postgres', uri: `${BASE_URI}?schema=${schema}` };
  },
  async cleanup() {
    const admin = new pg.Client({ connectionString: BASE_URI });
    await admin.connect();
    try {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await admin.end();
    }
  },
});
