import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateConfig } from '../../runtime/src/config/schema.js';
import { createBackend, type QueueBackend, type QueueConfig } from '../../runtime/src/index.js';
import { runContract, type BackendUnderTest } from './contract.js';
import { runMultiProcess } from './multi-process.js';

const folder = mkdtempSync(path.join(os.tmpdir(), 'loco-sqlite-contract-'));
let file = '';
let serial = 0;

const config = (): QueueConfig =>
  validateConfig({ workers: { mode: 'BackgroundQueue' }, queue: { kind: 'Sqlite', uri: `sqlite://${file}?mode=rwc` } }, 'test').queue!;

async function connect(): Promise<QueueBackend> {
  const backend = await createBackend(config(), folder);
  await backend.init({ flush: false });
  return backend;
}

const sqlite: BackendUnderTest = {
  name: 'sqlite',
  async open() {
    file = path.join(folder, `queue-${++serial}.sqlite`);
    return connect();
  },
  openAnother: connect,
  queueConfig: config,
  async cleanup() {
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  },
};

runContract(sqlite);
runMultiProcess(sqlite);

process.on('exit', () => rmSync(folder, { recursive: true, force: true }));
