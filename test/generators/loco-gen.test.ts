// `loco-gen` as a user runs it: the bin in a child process (TypeScript through tsx).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appFolder, FIXTURES, fixture, plainEnv } from './app-folder.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../generators/bin/loco-gen.ts');
const TSX = import.meta.resolve('tsx');

/** Runs `loco-gen <args>` in an empty folder: its exit code and output, and whether it wrote anything there. */
function locoGen(...args: string[]) {
  const cwd = mkdtempSync(path.join(tmpdir(), 'loco-gen-cli-'));
  try {
    const result = spawnSync(process.execPath, ['--import', TSX, BIN, ...args], {
      cwd,
      env: plainEnv(),
      encoding: 'utf8',
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr, wrote: readdirSync(cwd).length > 0 };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

test('an unknown option: one balanced sentence naming it, then the usage, exit 1', () => {
  const result = locoGen('worker', 'x', '--bogus');
  assert.is(result.code, 1);
  const [first, blank, usage] = result.stderr.split('\n');
  assert.is(first, "Unknown option '--bogus'. The options are listed below.");
  assert.is(blank, '');
  assert.match(usage, /^Usage: loco-gen /);
  assert.not.ok(result.wrote);
});

test('an unknown option close to a real one names the real one', () => {
  const result = locoGen('worker', 'x', '--dryrun');
  assert.is(result.code, 1);
  assert.is(
    result.stderr.split('\n')[0],
    "Unknown option '--dryrun' (did you mean --dry-run?). The options are listed below.",
  );
});

test('--help lists the worker, task and scheduler generators', () => {
  const result = locoGen('--help');
  assert.is(result.code, 0);
  assert.match(result.stdout, 'Usage: loco-gen <generator> [name] [--force] [--dry-run]');
  assert.match(result.stdout, /^ {2}worker <name> {3}Writes src\/workers\/<name>\.ts/m);
  assert.match(result.stdout, /^ {2}task <name> {5}Writes src\/tasks\/<name>\.ts/m);
  assert.match(result.stdout, /^ {2}scheduler {7}Writes a commented config\/scheduler.yaml/m);
});

test('an unknown generator names the ones there are', () => {
  const result = locoGen('model', 'user');
  assert.is(result.code, 1);
  assert.is(result.stderr.split('\n')[0], "Unknown generator 'model'; the generators are: worker, task, scheduler.");
  assert.not.ok(result.wrote);
});

test('a generator without a name asks for one, with an example', () => {
  const result = locoGen('task');
  assert.is(result.code, 1);
  assert.is(result.stderr.split('\n')[0], 'loco-gen task needs the name of the task, such as send_report.');
});

test('loco-gen scheduler writes config/scheduler.yaml in an app, takes no name, and refuses a folder without config/', () => {
  const t = appFolder(fixture('codemod/class-method', 'input.ts.txt'));
  try {
    mkdirSync(path.join(t.root, 'config'), { recursive: true });
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', TSX, BIN, 'scheduler', ...args], {
        cwd: t.root,
        env: plainEnv(),
        encoding: 'utf8',
      });
    const named = run('nightly');
    assert.is(named.status, 1);
    assert.is(named.stderr.split('\n')[0], 'Unexpected arguments: nightly. loco-gen scheduler takes no name.');
    assert.not.ok(existsSync(path.join(t.root, 'config/scheduler.yaml')));
    const written = run();
    assert.is(written.status, 0, written.stderr);
    assert.match(readFileSync(path.join(t.root, 'config/scheduler.yaml'), 'utf8'), /^jobs:/m);
  } finally {
    t.remove();
  }
  const outside = locoGen('scheduler');
  assert.is(outside.code, 1);
  assert.not.ok(outside.wrote);
});

/** Runs `loco-gen <args>` in `cwd`; the packages the run loaded CommonJS modules from. */
function packagesLoaded(cwd: string, ...args: string[]): string[] {
  const list = path.join(mkdtempSync(path.join(tmpdir(), 'loco-gen-loaded-')), 'packages.txt');
  try {
    const preload = path.join(FIXTURES, 'loaded-packages.cjs');
    const result = spawnSync(process.execPath, ['--import', TSX, '--require', preload, BIN, ...args], {
      cwd,
      env: { ...plainEnv(), LOADED_PACKAGES_FILE: list },
      encoding: 'utf8',
    });
    assert.ok(result.status === 0 || result.status === 1, `loco-gen ${args.join(' ')}: ${result.stderr}`);
    return readFileSync(list, 'utf8').split('\n');
  } finally {
    rmSync(path.dirname(list), { recursive: true, force: true });
  }
}

test('loads ts-morph only off the fast path, Handlebars only when it has files to write, and never node-plop', () => {
  const t = appFolder(fixture('codemod/class-method', 'input.ts.txt'));
  // node-plop is ESM; what would show it loaded is rxjs (for inquirer), which it brings.
  const heavy = (packages: string[]) => ['ts-morph', 'handlebars', 'rxjs'].filter((name) => packages.includes(name));
  try {
    assert.equal(heavy(packagesLoaded(t.root, '--help')), []);
    assert.equal(heavy(packagesLoaded(t.root, 'worker', 'class')), []);
    // An app in the shape create-loco-app writes is edited on its text (quick-edit.ts): no TypeScript.
    assert.equal(heavy(packagesLoaded(t.root, 'worker', 'report_worker')), ['handlebars']);
    // Nothing to do the second time: the codemod reads src/app.ts, no template is rendered.
    assert.equal(heavy(packagesLoaded(t.root, 'worker', 'report_worker')), ['ts-morph']);
  } finally {
    t.remove();
  }
});

test.run();
