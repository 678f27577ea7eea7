import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from '../ports.js';
import { exec as run, launch as start, succeeded } from './processes.js';

// The packages as users get them: starts a throwaway verdaccio on 127.0.0.1, publishes
// loco-runtime, create-loco-app and loco-gen to it, then in an empty folder runs
// `npm create loco-app my-app -- --yes` against it, and checks the app installs from it, passes
// its own tests, generates a worker and runs a job.
//
// Nothing of ours leaves the machine: the three packages are published to verdaccio only, and
// verdaccio serves them from its temp storage without asking any uplink. Every other package
// (hono, typescript, better-sqlite3, ...) is one the public registry has, and verdaccio proxies
// those to it, so the app's install needs no other registry setting.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MINUTE = 60_000;
const OURS = ['loco-runtime', 'create-loco-app', 'loco-gen'];
const work = mkdtempSync(path.join(tmpdir(), 'loco-registry-'));
const project = path.join(work, 'project');
const app = path.join(project, 'my-app');
const upstream = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim();

let registry = '';
let verdaccio: ReturnType<typeof start> | undefined;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'loco e2e',
  GIT_AUTHOR_EMAIL: 'e2e@example.com',
  GIT_COMMITTER_NAME: 'loco e2e',
  GIT_COMMITTER_EMAIL: 'e2e@example.com',
  NO_COLOR: '1',
  npm_config_update_notifier: 'false',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  // npx would ask before installing create-loco-app in a terminal; a test has none.
  npm_config_yes: 'true',
};
for (const key of Object.keys(env)) {
  // This file runs under `npm test`, whose own npm_config_* would reach the app's npm commands.
  if (key.startsWith('npm_config_') && !['update_notifier', 'audit', 'fund', 'yes'].some((k) => key.endsWith(k))) {
    delete env[key];
  }
}
const exec = (command: string, args: string[], cwd: string, timeoutMs: number) =>
  run(command, args, cwd, timeoutMs, env);

/** Each step needs the ones before it; a later step says so instead of failing obscurely. */
let stepsDone = 0;
function needSteps(step: number): void {
  assert.ok(stepsDone >= step, `this step needs steps 1..${step}, and one of them failed`);
}

test.after(async () => {
  if (verdaccio) {
    verdaccio.stop();
    await verdaccio.exited;
  }
  rmSync(work, { recursive: true, force: true });
});

test('verdaccio starts on a free port with its storage in a temp folder, and takes our three packages', async () => {
  const port = await freePort();
  registry = `http://127.0.0.1:${port}/`;
  const own = OURS.map(
    (name) =>
      // No proxy: these are served from the storage, never asked of an uplink.
      `  '${name}':\n    access: $all\n    publish: $authenticated\n    unpublish: $authenticated\n`,
  ).join('');
  const config = path.join(work, 'verdaccio.yaml');
  writeFileSync(
    config,
    [
      `storage: ${path.join(work, 'storage')}`,
      'auth:',
      `  htpasswd:\n    file: ${path.join(work, 'htpasswd')}`,
      'uplinks:',
      `  public:\n    url: ${upstream}\n    timeout: 60s`,
      'packages:',
      own.trimEnd(),
      "  '**':\n    access: $all\n    publish: $authenticated\n    proxy: public",
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const bin = path.join(
    path.dirname(createRequire(import.meta.url).resolve('verdaccio/package.json')),
    'bin/verdaccio',
  );
  verdaccio = start(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], work, env);
  const deadline = Date.now() + MINUTE;
  for (;;) {
    const ping = await fetch(`${registry}-/ping`).catch(() => undefined);
    if (ping?.ok) break;
    assert.ok(
      Date.now() < deadline && verdaccio.child.exitCode === null,
      `verdaccio did not start:\n${verdaccio.output()}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  // A user to publish as. npm reads the registry and the token from this file, which keeps the
  // rest of the user's own npmrc (nodedir, cafile, ...) for the installs.
  const added = await fetch(`${registry}-/user/org.couchdb.user:loco`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'loco', password: 'loco-e2e-password', type: 'user', roles: [] }),
  });
  assert.is(added.status, 201, await added.clone().text());
  const { token } = (await added.json()) as { token: string };
  const npmrc = path.join(work, 'npmrc');
  const userConfig = execFileSync('npm', ['config', 'get', 'userconfig'], { encoding: 'utf8' }).trim();
  const userLines = existsSync(userConfig) ? readFileSync(userConfig, 'utf8') : '';
  const kept = userLines.split('\n').filter((line) => !/^\s*registry\s*=/.test(line) && !line.includes(':_authToken='));
  writeFileSync(npmrc, [...kept, `registry=${registry}`, `//127.0.0.1:${port}/:_authToken=${token}`, ''].join('\n'));
  env.npm_config_userconfig = npmrc;
  // A cache of its own, so npx runs the create-loco-app just published and not one from an earlier
  // run of this test, but sharing the package contents npm has already fetched.
  const cache = path.join(work, 'npm-cache');
  mkdirSync(cache);
  const sharedContent = path.join(
    execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim(),
    '_cacache',
  );
  if (existsSync(sharedContent)) symlinkSync(sharedContent, path.join(cache, '_cacache'));
  env.npm_config_cache = cache;

  const tarballs = path.join(work, 'tarballs');
  const packed = await exec(
    process.execPath,
    [path.join(ROOT, 'scripts/packages.mjs'), 'pack', tarballs],
    ROOT,
    5 * MINUTE,
  );
  succeeded(packed, 'scripts/packages.mjs pack');
  const files = packed.output.split('\n').filter((line) => line.endsWith('.tgz'));
  assert.is(files.length, 3, packed.output);
  for (const file of files) succeeded(await exec('npm', ['publish', file], work, 2 * MINUTE), `npm publish ${file}`);
  for (const name of OURS) {
    const packument = (await (await fetch(`${registry}${name}`)).json()) as { versions: Record<string, unknown> };
    assert.ok(Object.keys(packument.versions ?? {}).length > 0, `${name} is not on the registry`);
  }
  stepsDone = 1;
});

test('npm create loco-app my-app -- --yes in an empty folder makes an app that installs from the registry', async () => {
  needSteps(1);
  mkdirSync(project);
  // Compiling better-sqlite3 takes most of it: a minute or two, much more on a loaded machine.
  const created = await exec('npm', ['create', 'loco-app', 'my-app', '--', '--yes'], project, 12 * MINUTE);
  succeeded(created, 'npm create loco-app my-app -- --yes');
  const pkg = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'));
  const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  assert.is(pkg.dependencies['loco-runtime'], `^${version}`);
  assert.is(pkg.devDependencies['loco-gen'], `^${version}`);
  assert.not.ok(existsSync(path.join(app, 'vendor')), 'an app from the registry has no vendor/');
  // What was installed is what this run published (the registry has no other copy of them).
  for (const name of ['loco-runtime', 'loco-gen']) {
    const installed = JSON.parse(readFileSync(path.join(app, `node_modules/${name}/package.json`), 'utf8'));
    assert.is(installed.version, version, name);
  }
  assert.match(readFileSync(path.join(app, 'node_modules/loco-runtime/dist/testing.js'), 'utf8'), 'performEnqueued');
  assert.ok(existsSync(path.join(app, 'node_modules/loco-gen/templates/worker/worker.test.ts.hbs')));
  assert.ok(existsSync(path.join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node')));
  stepsDone = 2;
});

test("the app's npm test passes; npx loco-gen worker report_worker works, and its test passes too", async () => {
  needSteps(2);
  const tested = await exec('npm', ['test'], app, 3 * MINUTE);
  succeeded(tested, 'npm test');
  assert.match(tested.output, /Passed:\s+5/);
  const generated = await exec('npx', ['loco-gen', 'worker', 'report_worker'], app, 2 * MINUTE);
  succeeded(generated, 'npx loco-gen worker report_worker');
  assert.match(readFileSync(path.join(app, 'src/app.ts'), 'utf8'), 'queue.register(ReportWorkerWorker.build(ctx));');
  const again = await exec('npm', ['test'], app, 3 * MINUTE);
  succeeded(again, 'npm test with the generated worker');
  assert.match(again.output, /Passed:\s+7/);
  stepsDone = 3;
});

test('npx loco jobs enqueue, then npx loco start --worker runs the job', async () => {
  needSteps(3);
  const enqueued = await exec(
    'npx',
    ['loco', 'jobs', 'enqueue', 'ReportWorkerWorker', '--args', '{"userGuid":"from-registry"}'],
    app,
    MINUTE,
  );
  succeeded(enqueued, 'loco jobs enqueue');
  const worker = start('npx', ['loco', 'start', '--worker'], app, env);
  try {
    await worker.waitFor(/ReportWorkerWorker runs for user from-registry/, MINUTE);
  } finally {
    worker.stop();
    await worker.exited;
  }
});

test.run();
