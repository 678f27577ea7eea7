// A store that goes away under a running process, and comes back: an enqueue during the outage
// fails within queue.connect_timeout with the QueueConnectionError boot gives (the store named,
// its password hidden), and a worker loop left running picks up work again once the store is
// back. Redis: a redis-server this test starts in a temp folder and kills. Postgres: a TCP proxy
// this test runs in front of the shared server, closed to cut it off. Never the shared servers.
// SQLite has no server: a file another connection keeps locked fails an enqueue the same way after
// its busy timeout.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BackgroundWorker,
  Queue,
  type QueueBackend,
  QueueConnectionError,
  runWorkerLoop,
  silentLogger,
} from '../../runtime/src/internals.js';
import { freePort } from '../ports.js';
import { postgresAdmin, sqliteStore } from '../stores.js';
import { exited, openStore, sleep, testStoreConfig, waitUntil } from './helpers.js';

const CONNECT_TIMEOUT_MS = 1000;
const SECRET = 'outage-secret-pw';

/** A store that can be cut off and brought back. */
interface Outage {
  uri: string;
  up(): Promise<void>;
  down(): Promise<void>;
  dispose(): Promise<void>;
}

function redisOutage(): Outage {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loco-outage-redis-'));
  let port = 0;
  let server: ChildProcess | undefined;
  const outage: Outage = {
    uri: '',
    async up() {
      port ||= await freePort();
      outage.uri = `redis://:${SECRET}@127.0.0.1:${port}?prefix=outage`;
      server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', SECRET, '--save', '', '--appendonly', 'no'],
        { cwd: dir, stdio: 'ignore' },
      );
      await waitUntil(
        () =>
          new Promise<boolean>((resolve) => {
            const socket = net.connect(port, '127.0.0.1', () => {
              socket.destroy();
              resolve(true);
            });
            socket.on('error', () => resolve(false));
          }),
        10_000,
      );
    },
    async down() {
      if (!server) return;
      server.kill('SIGKILL');
      await exited(server);
      server = undefined;
    },
    async dispose() {
      await outage.down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return outage;
}

function postgresOutage(): Outage {
  const schema = `loco_outage_${process.pid}`;
  let port = 0;
  let proxy: net.Server | undefined;
  const sockets = new Set<net.Socket>();
  const outage: Outage = {
    uri: '',
    async up() {
      port ||= await freePort();
      outage.uri = `postgres://postgres:${SECRET}@127.0.0.1:${port}/test?schema=${schema}`;
      proxy = net.createServer((client) => {
        const upstream = net.connect(5432, '127.0.0.1');
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      await new Promise<void>((resolve) => proxy!.listen(port, '127.0.0.1', resolve));
    },
    async down() {
      if (!proxy) return;
      const closed = new Promise((resolve) => proxy!.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
      proxy = undefined;
    },
    async dispose() {
      await outage.down();
      await postgresAdmin((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    },
  };
  return outage;
}

class PingWorker extends BackgroundWorker<{ n: number }> {
  static seen: number[] = [];
  async perform(args: { n: number }): Promise<void> {
    PingWorker.seen.push(args.n);
  }
}

function runOutage(name: string, kind: 'Redis' | 'Postgres', make: () => Outage): void {
  const test = suite(`outage: ${name}`);

  test('enqueue during an outage: QueueConnectionError within connect_timeout; workers carry on after it', async () => {
    const outage = make();
    let backend: QueueBackend | undefined;
    const stop = new AbortController();
    let loop: Promise<unknown> | undefined;
    try {
      await outage.up();
      const config = testStoreConfig({ kind, uri: outage.uri, connect_timeout: CONNECT_TIMEOUT_MS });
      backend = await openStore(config);
      const queue = new Queue('BackgroundQueue', backend);
      const ctx = {
        environment: 'test',
        config: {} as never,
        queue,
        root: process.cwd(),
        appName: 'outage',
        logger: silentLogger,
      };
      queue.register(PingWorker.build(ctx));
      PingWorker.seen = [];
      loop = runWorkerLoop({
        backend,
        registry: queue.registry,
        concurrency: 2,
        pollIntervalMs: 50,
        leaseMs: 5000,
        tags: [],
        signal: stop.signal,
        logger: silentLogger,
      });
      await PingWorker.performLater(ctx, { n: 1 });
      await waitUntil(() => PingWorker.seen.includes(1), 10_000);

      await outage.down();
      await sleep(200);
      const started = Date.now();
      const error = await PingWorker.performLater(ctx, { n: 2 }).then(
        () => undefined,
        (err: unknown) => err,
      );
      const took = Date.now() - started;
      assert.instance(error, QueueConnectionError, `expected a QueueConnectionError, got ${error}`);
      const message = (error as Error).message;
      assert.match(message, new RegExp(`Cannot connect to the ${kind} queue at \\S+127\\.0\\.0\\.1`));
      assert.not.match(message, SECRET, 'the password is hidden');
      assert.ok(took <= CONNECT_TIMEOUT_MS + 3000, `failed within connect_timeout (${took} ms)`);

      await sleep(500);
      await outage.up();
      // Redis came back empty (no persistence here); Postgres kept its rows. Either way, work
      // enqueued now runs on the loop that lived through the outage.
      await waitUntil(async () => {
        try {
          await PingWorker.performLater(ctx, { n: 3 });
          return true;
        } catch {
          return false;
        }
      }, 15_000);
      await waitUntil(() => PingWorker.seen.includes(3), 15_000);
    } finally {
      stop.abort();
      await loop;
      await backend?.close().catch(() => undefined);
      await outage.dispose();
    }
  });

  test.run();
}

runOutage('redis', 'Redis', redisOutage);
runOutage('postgres', 'Postgres', postgresOutage);

const sqlite = suite('outage: sqlite');

sqlite('a file locked by another writer past the busy timeout: QueueConnectionError, nothing written', async () => {
  const store = sqliteStore('outage');
  const uri = store.fresh();
  const backend = await openStore(testStoreConfig({ kind: 'Sqlite', uri }));
  const other = new Database(uri.replace(/^sqlite:\/\//, '').replace(/\?.*$/, ''));
  try {
    const queue = new Queue('BackgroundQueue', backend);
    other.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    const error = await queue.enqueueByName('PingWorker', [{ n: 1 }]).then(
      () => undefined,
      (err: unknown) => err,
    );
    const took = Date.now() - started;
    assert.instance(error, QueueConnectionError, `expected a QueueConnectionError, got ${error}`);
    assert.match((error as Error).message, /Cannot write to the SQLite queue \S+ to enqueue: database is locked/);
    assert.match((error as Error).message, /Nothing was written\.$/);
    assert.ok(took >= 4500 && took < 10_000, `after the busy timeout of 5 s (${took} ms)`);
    other.exec('ROLLBACK');
    assert.equal(await backend.stats(), [], 'nothing was written');
    await queue.enqueueByName('PingWorker', [{ n: 2 }]);
    assert.is((await backend.stats())[0]?.count, 1, 'writes go through once the lock is gone');
  } finally {
    other.close();
    await backend.close();
    await store.drop();
  }
});

sqlite.run();
