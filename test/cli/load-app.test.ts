// Which file `loco` loads an app from: the build when it is up to date, the TypeScript otherwise.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appEntry, loadApp } from '../../runtime/src/cli/load-app.js';

const folders: string[] = [];
const app = (files: Record<string, number>) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'loco-load-app-'));
  folders.push(root);
  for (const [file, ageSec] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), `export class App { appName = '${file}'; }\n`);
    const at = Date.now() / 1000 - ageSec;
    utimesSync(path.join(root, file), at, at);
  }
  return root;
};

test.after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

test('the build is loaded when no source is newer; a stale or missing build falls back to src/app.ts', async () => {
  const fresh = app({ 'src/app.ts': 60, 'src/workers/a.ts': 50, 'dist/app.js': 10 });
  assert.is(appEntry(fresh), path.join(fresh, 'dist/app.js'));
  assert.is(new ((await loadApp(fresh)) as new () => { appName: string })().appName, 'dist/app.js');

  const stale = app({ 'src/app.ts': 60, 'src/workers/a.ts': 5, 'dist/app.js': 10 });
  assert.is(appEntry(stale), path.join(stale, 'src/app.ts'), 'a worker edited after the build');

  const unbuilt = app({ 'src/app.ts': 60 });
  assert.is(appEntry(unbuilt), path.join(unbuilt, 'src/app.ts'));

  const buildOnly = app({ 'dist/app.js': 10 });
  assert.is(appEntry(buildOnly), path.join(buildOnly, 'dist/app.js'));
});

test('no app: the message lists what was looked for', async () => {
  const empty = app({});
  try {
    await loadApp(empty);
    assert.unreachable('should refuse');
  } catch (err) {
    assert.match((err as Error).message, 'looked for src/app.ts, src/app.mts, src/app.js, dist/app.js');
  }
});

test.run();
