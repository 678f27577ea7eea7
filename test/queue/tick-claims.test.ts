// Tick claims past their hold are pruned by later claims, in each durable store: what the
// contract cannot see through the interface, read from the store itself.
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { QueueBackend } from '../../runtime/src/internals.js';
import { postgresAdmin, postgresStore, redisStore, sqliteStore, type TestStore } from '../stores.js';
import { openStore, sleep, testStoreConfig } from './helpers.js';

/** How each store shows the ticks it holds: `schedule@tickAt`, sorted. */
const readers: Record<string, (store: TestStore) => Promise<string[]>> = {
  async sqlite(store) {
    const db = new Database(
      store
        .uri()
        .replace(/^sqlite:\/\//, '')
        .replace(/\?.*$/, ''),
      { readonly: true },
    );
    try {
      const rows = db.prepare('SELECT schedule, tick_at FROM loco_schedule_ticks').all() as Row[];
      return rows.map((row) => `${row.schedule}@${row.tick_at}`).sort();
    } finally {
      db.close();
    }
  },
  async postgres(store) {
    const schema = new URL(store.uri()).searchParams.get('schema');
    const { rows } = await postgresAdmin((client) =>
      client.query(`SELECT schedule, tick_at FROM "${schema}".loco_schedule_ticks`),
    );
    return (rows as Row[]).map((row) => `${row.schedule}@${row.tick_at}`).sort();
  },
  async redis(store) {
    const url = new URL(store.uri());
    const prefix = url.searchParams.get('prefix');
    const admin = new Redis(store.uri().replace(/\?.*$/, ''));
    try {
      const keys = await admin.keys(`{${prefix}}:tick:*`);
      return keys.map((key) => key.slice(`{${prefix}}:tick:`.length).replace(/:(\d+)$/, '@$1')).sort();
    } finally {
      await admin.quit();
    }
  },
};

type Row = { schedule: string; tick_at: string | number };

for (const store of [sqliteStore('ticks'), postgresStore('ticks'), redisStore('ticks')]) {
  const test = suite(`tick claims: ${store.name}`);
  let backend: QueueBackend;

  test.before.each(async () => {
    store.fresh();
    backend = await openStore(testStoreConfig({ kind: store.kind, uri: store.uri() }));
  });
  test.after.each(async () => {
    await backend.close();
    await store.drop();
  });

  test('a claim past its hold is pruned by a later claim; claims still held are kept', async () => {
    const first = Date.now();
    assert.ok(await backend.claimTick('every-second', first, 40));
    assert.ok(await backend.claimTick('daily', first, 86_400_000));
    assert.equal(await readers[store.name](store), [`daily@${first}`, `every-second@${first}`]);
    await sleep(80);
    const second = Date.now();
    assert.ok(await backend.claimTick('every-second', second, 40));
    assert.equal(await readers[store.name](store), [`daily@${first}`, `every-second@${second}`]);
  });

  test.run();
}
