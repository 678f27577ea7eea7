// The HTTP app `loco start` serves (createHttpApp): the body limit in front of every route, and the
// scaffolded app's POST /downloads controller (templates/app) behind it, run against a small app
// made here.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Hono } from 'hono';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type AppContext, type BootedApp, boot, type Hooks, validateConfig } from '../runtime/src/internals.js';
import { createHttpApp } from '../runtime/src/server.js';
import { ROOT } from './queue/helpers.js';

const folder = mkdtempSync(path.join(os.tmpdir(), 'loco-server-'));

/** Boots `hooks` in ForegroundBlocking mode with the given `server:` section and builds its HTTP app. */
async function serve(hooks: Hooks, server: Record<string, unknown> = {}): Promise<{ http: Hono; booted: BootedApp }> {
  const config = validateConfig({ workers: { mode: 'ForegroundBlocking' }, server }, 'test.yaml');
  const booted = await boot(hooks, { config, root: folder });
  return { http: await createHttpApp(booted), booted };
}

/** A body sent in pieces, without a Content-Length. */
function streamed(bytes: number): ReadableStream<Uint8Array> {
  let left = bytes;
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) return controller.close();
      const size = Math.min(left, 256);
      left -= size;
      controller.enqueue(new Uint8Array(size).fill(120));
    },
  });
}

const echo: Hooks = {
  async connectWorkers() {},
  routes(app: Hono) {
    app.post('/echo', async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));
  },
};

test('every route answers 413 to a body over server.body_limit, with or without a Content-Length', async () => {
  const { http, booted } = await serve(echo, { body_limit: '1KiB' });
  try {
    const post = (body: BodyInit, headers: Record<string, string> = {}) =>
      http.request('/echo', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
    const within = await post('x'.repeat(1024), { 'content-length': '1024' });
    assert.is(within.status, 200);
    assert.equal(await within.json(), { bytes: 1024 });
    const over = await post('x'.repeat(1025), { 'content-length': '1025' });
    assert.is(over.status, 413);
    assert.equal(await over.json(), { error: 'The request body is over the limit of 1 KiB (server.body_limit).' });
    assert.is((await post(streamed(2048))).status, 413, 'a streamed body is counted as it comes');
    assert.equal(await (await post(streamed(1000))).json(), { bytes: 1000 });
    assert.is((await http.request('/_ping')).status, 200);
  } finally {
    await booted.shutdown();
  }
});

test('server.body_limit: 1 MiB by default, bytes or a size, at most 1 GiB', () => {
  const server = (value?: unknown) =>
    validateConfig(value === undefined ? {} : { server: { body_limit: value } }, 'test.yaml').server;
  assert.is(server().body_limit, 1024 * 1024);
  assert.is(server('5mb').body_limit, 5_000_000);
  assert.is(server(2048).body_limit, 2048);
  assert.throws(
    () => server('2GiB'),
    /test\.yaml: server\.body_limit: expected a number of bytes or a size such as 512KiB, 1MiB, 5MB or 1GiB, from 1 byte to 1 GiB, found the string '2GiB'\./,
  );
});

test("the scaffolded POST /downloads takes JSON only, behind the server's body limit", async () => {
  // The controller as create-loco-app writes it, beside a DownloadWorker that records its jobs.
  const app = path.join(folder, 'app');
  mkdirSync(path.join(app, 'src/controllers'), { recursive: true });
  mkdirSync(path.join(app, 'src/workers'), { recursive: true });
  copyFileSync(
    path.join(ROOT, 'templates/app/src/controllers/downloads.ts.hbs'),
    path.join(app, 'src/controllers/downloads.ts'),
  );
  writeFileSync(
    path.join(app, 'src/workers/downloader.ts'),
    `import { BackgroundWorker } from ${JSON.stringify(path.join(ROOT, 'runtime/src/index.ts'))};
export const performed: unknown[] = [];
export class DownloadWorker extends BackgroundWorker<{ userGuid: string }> {
  async perform(args: { userGuid: string }) { performed.push(args); }
}
`,
  );
  const { downloadRoutes } = (await import(pathToFileURL(path.join(app, 'src/controllers/downloads.ts')).href)) as {
    downloadRoutes: (app: Hono, ctx: AppContext) => void;
  };
  const worker = await import(pathToFileURL(path.join(app, 'src/workers/downloader.ts')).href);
  const { http, booted } = await serve({
    async connectWorkers(ctx, queue) {
      queue.register(worker.DownloadWorker.build(ctx));
    },
    routes: downloadRoutes,
  });
  try {
    const post = (type: string, body: string) =>
      http.request('/downloads', { method: 'POST', headers: { 'content-type': type }, body });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']) {
      const refused = await post(type, '{"userGuid":"foo"}');
      assert.is(refused.status, 415, `Content-Type '${type}'`);
      assert.match((await refused.json()).error, 'Expected Content-Type: application/json');
    }
    const huge = await post('application/json', JSON.stringify({ userGuid: 'x'.repeat(50 * 1024 * 1024) }));
    assert.is(huge.status, 413, 'a 50 MB body');
    assert.equal(worker.performed, [], 'nothing ran');

    const accepted = await post('application/json; charset=utf-8', '{"userGuid":"foo"}');
    assert.is(accepted.status, 202);
    assert.equal(worker.performed, [{ userGuid: 'foo' }]);
  } finally {
    await booted.shutdown();
  }
});

test.after(() => {
  rmSync(folder, { recursive: true, force: true });
});

test.run();
