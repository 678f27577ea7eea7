import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runJobsCli } from './jobs-suite.js';

const folder = mkdtempSync(path.join(os.tmpdir(), 'loco-jobs-sqlite-'));
let file = '';
let serial = 0;

runJobsCli({
  name: 'sqlite',
  async fresh() {
    file = path.join(folder, `queue-${++serial}.sqlite`);
    return { kind: 'Sqlite', uri: `sqlite://${file}?mode=rwc` };
  },
  async cleanup() {
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  },
});

process.on('exit', () => rmSync(folder, { recursive: true, force: true }));
