import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import prompts from 'prompts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type InitEnvironment, init } from '../../generators/create-app/index.js';
import type { VendorPackage } from '../../generators/create-app/vendor.js';
import { loadConfig } from '../../runtime/src/config/load.js';
import { openToEveryone, runBin } from './app-folder.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TEMPLATE = path.join(ROOT, 'templates/app');
const RUNTIME_VERSION = JSON.parse(readFileSync(path.join(ROOT, 'runtime/package.json'), 'utf8')).version as string;
const LOCO_TS_VERSION = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
const TARBALLS = [`loco-runtime-${RUNTIME_VERSION}.tgz`, `loco-gen-${LOCO_TS_VERSION}.tgz`];
const plain = (text: string) => stripVTControlCharacters(text);

/** Files under `folder`, relative, with `/` separators, sorted. */
function filesUnder(folder: string, prefix = ''): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? filesUnder(path.join(folder, entry.name), `${prefix}${entry.name}/`)
        : [`${prefix}${entry.name}`],
    )
    .sort();
}

/** What the app folder should hold: the template tree, `.hbs` dropped, `_gitignore` -> `.gitignore`, plus vendor/. */
const EXPECTED_FILES = [
  ...filesUnder(TEMPLATE).map((file) => file.replace(/\.hbs$/, '').replace(/(^|\/)_gitignore$/, '$1.gitignore')),
  ...TARBALLS.map((tarball) => `vendor/${tarball}`),
].sort();

/** Runs create-loco-app in a temp folder, without npm pack (empty tarballs of the right names) or npm install. */
async function create(argv: string[], environment: Partial<InitEnvironment> = {}) {
  const cwd = mkdtempSync(path.join(tmpdir(), 'create-loco-app-'));
  const lines: string[] = [];
  const packed: Array<{ names: string[]; vendorDir: string }> = [];
  const pack = async (packages: VendorPackage[], vendorDir: string) => {
    packed.push({ names: packages.map((pkg) => pkg.name), vendorDir });
    mkdirSync(vendorDir, { recursive: true });
    for (const pkg of packages) writeFileSync(path.join(vendorDir, pkg.tarball), '');
  };
  const print = (line: string) => lines.push(line);
  const run = (args: string[]) =>
    init(args, { cwd, interactive: false, log: print, error: print, pack, ...environment });
  const code = argv.length > 0 ? await run(argv) : 0;
  return {
    cwd,
    code,
    packed,
    run,
    output: () => plain(lines.join('\n')),
    read: (file: string) => readFileSync(path.join(cwd, file), 'utf8'),
    remove: () => rmSync(cwd, { recursive: true, force: true }),
  };
}

const OFFLINE = ['--yes', '--no-install', '--no-git'];

test('writes every file of the template folder, renamed, and the two vendored packages', async () => {
  const t = await create(['my-app', ...OFFLINE]);
  try {
    assert.is(t.code, 0, t.output());
    assert.equal(filesUnder(path.join(t.cwd, 'my-app')), EXPECTED_FILES);
    assert.equal(t.packed, [{ names: ['loco-runtime', 'loco-gen'], vendorDir: path.join(t.cwd, 'my-app/vendor') }]);
  } finally {
    t.remove();
  }
});

test('from the published create-loco-app, the app names loco-runtime and loco-gen by version and packs nothing', async () => {
  // A create-loco-app package as scripts/packages.mjs lays it out: its package.json's locoApp, its templates.
  const published = mkdtempSync(path.join(tmpdir(), 'create-loco-app-package-'));
  const versions = { hono: '^4.0.0', typescript: '~5.9.3', tsx: '^4.0.0', uvu: '^0.5.6', typesNode: '^20.0.0' };
  writeFileSync(
    path.join(published, 'package.json'),
    JSON.stringify({
      name: 'create-loco-app',
      version: '0.3.1',
      locoApp: { runtime: '^0.3.1', generators: '^0.3.1', versions },
    }),
  );
  cpSync(TEMPLATE, path.join(published, 'templates/app'), { recursive: true });
  const t = await create(['my-app', ...OFFLINE], { root: published });
  try {
    assert.is(t.code, 0, t.output());
    assert.equal(t.packed, []);
    assert.not.ok(existsSync(path.join(t.cwd, 'my-app/vendor')));
    const pkg = JSON.parse(t.read('my-app/package.json'));
    assert.equal(pkg.dependencies, { hono: '^4.0.0', 'loco-runtime': '^0.3.1' });
    assert.equal(pkg.devDependencies, {
      '@types/node': '^20.0.0',
      'loco-gen': '^0.3.1',
      tsx: '^4.0.0',
      typescript: '~5.9.3',
      uvu: '^0.5.6',
    });
    assert.not.match(t.read('my-app/.gitignore'), 'vendor');
    assert.not.match(t.read('my-app/README.md'), 'vendor/');
  } finally {
    t.remove();
    rmSync(published, { recursive: true, force: true });
  }
});

test('a create-loco-app package without locoApp says what is wrong', async () => {
  const broken = mkdtempSync(path.join(tmpdir(), 'create-loco-app-package-'));
  writeFileSync(path.join(broken, 'package.json'), JSON.stringify({ name: 'create-loco-app', version: '0.3.1' }));
  cpSync(TEMPLATE, path.join(broken, 'templates/app'), { recursive: true });
  const t = await create([], { root: broken });
  try {
    let thrown: unknown;
    await t.run(['my-app', ...OFFLINE]).catch((error) => (thrown = error));
    assert.match(String(thrown), 'has no locoApp field naming the versions a new app pins');
  } finally {
    t.remove();
    rmSync(broken, { recursive: true, force: true });
  }
});

test('leaves no Handlebars in the output; only the get_env braces of the config remain', async () => {
  const t = await create(['my-app', ...OFFLINE]);
  try {
    for (const file of EXPECTED_FILES.filter((name) => !name.startsWith('vendor/'))) {
      const text = t.read(`my-app/${file}`);
      for (const line of text.split('\n').filter((l) => l.includes('{{') || l.includes('}}'))) {
        assert.match(line, /"\{\{ get_env\(name="[A-Z_]+", default="[^"]*"\) \}\}"/, `${file}: ${line}`);
      }
    }
  } finally {
    t.remove();
  }
});

test('package.json: ESM, the scripts, registry deps, and the runtime and generators from vendor/', async () => {
  const t = await create(['my-app', ...OFFLINE]);
  try {
    const pkg = JSON.parse(t.read('my-app/package.json'));
    const rootPkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const runtimePkg = JSON.parse(readFileSync(path.join(ROOT, 'runtime/package.json'), 'utf8'));
    assert.is(pkg.name, 'my-app');
    assert.is(pkg.type, 'module');
    assert.equal(pkg.scripts, {
      start: 'loco start',
      worker: 'loco start --worker',
      dev: 'loco start --server-and-worker',
      build: 'tsc -p tsconfig.build.json',
      test: 'node --import tsx node_modules/uvu/bin.js tests "\\.test\\.ts$"',
      typecheck: 'tsc --noEmit',
    });
    assert.equal(pkg.dependencies, {
      hono: runtimePkg.dependencies.hono,
      'loco-runtime': `file:vendor/${TARBALLS[0]}`,
    });
    assert.equal(pkg.devDependencies, {
      '@types/node': rootPkg.devDependencies['@types/node'],
      'loco-gen': `file:vendor/${TARBALLS[1]}`,
      tsx: rootPkg.devDependencies.tsx,
      typescript: '~5.9.3',
      uvu: rootPkg.devDependencies.uvu,
    });
    assert.match(pkg.devDependencies['@types/node'], /^\^20\./);
    // npm 11 asks for dependencies' install scripts to be allowed: better-sqlite3 compiles its
    // native module, esbuild (under tsx) checks its binary.
    assert.equal(pkg.allowScripts, { 'better-sqlite3': true, esbuild: true });
    assert.match(t.read('my-app/src/app.ts'), "appName = 'my-app';");
    assert.match(t.read('my-app/.gitignore'), /^\*\.sqlite\*$/m);
    assert.not.match(t.read('my-app/.gitignore'), /^\/?vendor/m);
  } finally {
    t.remove();
  }
});

test("defaults (--yes): BackgroundQueue on SQLite, in Loco's config shape", async () => {
  const t = await create(['my-app', ...OFFLINE]);
  try {
    const development = t.read('my-app/config/development.yaml');
    assert.match(development, 'workers:\n');
    assert.match(
      development,
      '  #   - BackgroundQueue - Workers operate asynchronously in the background, processing queued.\n',
    );
    assert.match(development, '  mode: BackgroundQueue\n');
    assert.match(
      development,
      'queue:\n  kind: Sqlite\n  # SQLite Queue connection URI.\n' +
        '  uri: "{{ get_env(name="SQLTQ_URL", default="sqlite://loco_development.sqlite?mode=rwc") }}"\n',
    );
    assert.match(development, '  dangerously_flush: false\n');
    assert.match(development, '  num_workers: 2\n');
    assert.match(development, '  poll_interval_sec: 1\n');
    assert.match(development, 'server:\n  # Port on which the server will listen.\n  port: 5150\n');
    const production = t.read('my-app/config/production.yaml');
    assert.match(production, 'default="sqlite://loco_production.sqlite?mode=rwc"');
    assert.not.match(production, '_development');
    const testConfig = t.read('my-app/config/test.yaml');
    assert.match(testConfig, '  mode: ForegroundBlocking\n');
    assert.not.match(testConfig, /^queue:/m);
  } finally {
    t.remove();
  }
});

test('the configs load in the runtime: get_env renders, the YAML parses and validates', async () => {
  const t = await create(['my-app', ...OFFLINE]);
  try {
    const root = path.join(t.cwd, 'my-app');
    const development = loadConfig({ root, environment: 'development', env: {} });
    assert.is(development.workers.mode, 'BackgroundQueue');
    assert.is(development.queue?.kind, 'Sqlite');
    assert.is(development.queue?.uri, 'sqlite://loco_development.sqlite?mode=rwc');
    assert.is(development.server.port, 5150);
    const fromEnv = loadConfig({ root, environment: 'production', env: { SQLTQ_URL: 'sqlite:///var/q.sqlite' } });
    assert.is(fromEnv.queue?.uri, 'sqlite:///var/q.sqlite');
    const testConfig = loadConfig({ root, environment: 'test', env: {} });
    assert.is(testConfig.workers.mode, 'ForegroundBlocking');
    assert.is(testConfig.queue.kind, undefined, 'no store in the test config');
  } finally {
    t.remove();
  }
});

test('--queue postgres: a Postgres queue named after the app', async () => {
  const t = await create(['shop', '--name', 'shop-api', '--bg', 'queue', '--queue', 'postgres', ...OFFLINE]);
  try {
    assert.is(t.code, 0, t.output());
    assert.match(t.read('shop/config/development.yaml'), '  kind: Postgres\n');
    assert.match(
      t.read('shop/config/development.yaml'),
      '  uri: "{{ get_env(name="PGQ_URL", default="postgres://postgres@127.0.0.1:5432/shop_api_development") }}"\n',
    );
    assert.match(
      t.read('shop/config/production.yaml'),
      '  uri: "{{ get_env(name="PGQ_URL", default="postgres://postgres@127.0.0.1:5432/shop_api_production") }}"\n',
    );
    const config = loadConfig({ root: path.join(t.cwd, 'shop'), environment: 'development', env: {} });
    assert.is(config.queue?.kind, 'Postgres');
    assert.match(t.output(), 'createdb -h 127.0.0.1 -U postgres shop_api_development');
    assert.match(t.read('shop/src/app.ts'), "appName = 'shop-api';");
  } finally {
    t.remove();
  }
});

test('--queue redis alone: a Redis queue (and BackgroundQueue)', async () => {
  const t = await create(['my-app', '--queue', 'redis', ...OFFLINE]);
  try {
    const development = t.read('my-app/config/development.yaml');
    assert.match(development, '  mode: BackgroundQueue\n');
    assert.match(
      development,
      '  kind: Redis\n  # Redis connection URI.\n  uri: "{{ get_env(name="REDIS_URL", default="redis://127.0.0.1") }}"\n',
    );
    const config = loadConfig({ root: path.join(t.cwd, 'my-app'), environment: 'production', env: {} });
    assert.is(config.queue?.uri, 'redis://127.0.0.1');
  } finally {
    t.remove();
  }
});

for (const [bg, mode] of [
  ['async', 'BackgroundAsync'],
  ['blocking', 'ForegroundBlocking'],
] as const) {
  test(`--bg ${bg}: workers.mode ${mode} and no queue section`, async () => {
    const t = await create(['my-app', '--bg', bg, ...OFFLINE]);
    try {
      for (const environment of ['development', 'production']) {
        const text = t.read(`my-app/config/${environment}.yaml`);
        assert.match(text, `  mode: ${mode}\n`);
        assert.not.match(text, /^queue:/m);
        const config = loadConfig({ root: path.join(t.cwd, 'my-app'), environment, env: {} });
        assert.is(config.workers.mode, mode);
        assert.is(config.queue.kind, undefined);
      }
    } finally {
      t.remove();
    }
  });
}

test('a non-empty folder is refused, naming what is in it, and left as it was', async () => {
  const t = await create([]);
  try {
    mkdirSync(path.join(t.cwd, 'my-app/notes'), { recursive: true });
    writeFileSync(path.join(t.cwd, 'my-app/README.md'), 'mine\n');
    assert.is(await t.run(['my-app', ...OFFLINE]), 1);
    assert.match(t.output(), 'The folder my-app is not empty. It holds: README.md, notes/.');
    assert.match(t.output(), '--overwrite');
    assert.equal(filesUnder(path.join(t.cwd, 'my-app')), ['README.md']);
    assert.is(t.read('my-app/README.md'), 'mine\n');
    assert.equal(t.packed, []);
  } finally {
    t.remove();
  }
});

for (const [what, setUp, target, message] of [
  [
    'a file',
    (cwd: string) => writeFileSync(path.join(cwd, 'notes.txt'), 'mine\n'),
    'notes.txt',
    'Cannot create the app in notes.txt: notes.txt is a file, not a folder. Give the path of a new or empty folder you can write to.',
  ],
  [
    'a path under a file',
    (cwd: string) => writeFileSync(path.join(cwd, 'notes.txt'), 'mine\n'),
    'notes.txt/app',
    'Cannot create the app in notes.txt/app: notes.txt is a file, not a folder. Give the path of a new or empty folder you can write to.',
  ],
  [
    'a broken symbolic link',
    (cwd: string) => symlinkSync(path.join(cwd, 'gone'), path.join(cwd, 'link')),
    'link/app',
    'Cannot create the app in link/app: link is a broken symbolic link. Give the path of a new or empty folder you can write to.',
  ],
] as const) {
  test(`a target that is ${what}: one line naming the path and the fix, nothing written`, async () => {
    const t = await create([]);
    try {
      setUp(t.cwd);
      const before = filesUnder(t.cwd);
      assert.is(await t.run([target, ...OFFLINE]), 1);
      assert.is(t.output(), message);
      assert.equal(filesUnder(t.cwd), before);
      assert.equal(t.packed, []);
    } finally {
      t.remove();
    }
  });
}

test('--overwrite into a folder where a file of the app must go holds a folder of that name: refused, nothing written', async () => {
  const t = await create([]);
  try {
    mkdirSync(path.join(t.cwd, 'my-app/package.json'), { recursive: true });
    assert.is(await t.run(['my-app', '--overwrite', ...OFFLINE]), 1);
    assert.is(
      t.output(),
      'Cannot create the app in my-app: cannot write my-app/package.json: it is a folder. Move it away, or give the path of a new or empty folder.',
    );
    assert.equal(filesUnder(path.join(t.cwd, 'my-app')), []);
  } finally {
    t.remove();
  }
});

test('a parent folder without write permission: one line naming it, nothing written', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'create-loco-app-'));
  try {
    mkdirSync(path.join(cwd, 'locked'));
    openToEveryone(cwd);
    chmodSync(path.join(cwd, 'locked'), 0o555);
    const result = runBin('create-loco-app', ['locked/my-app', ...OFFLINE], cwd);
    assert.is(result.code, 1, result.output);
    assert.is(
      result.output.trim(),
      'Cannot create the app in locked/my-app: no permission to write in locked. Give the path of a new or empty folder you can write to.',
    );
    assert.equal(readdirSync(path.join(cwd, 'locked')), []);
  } finally {
    chmodSync(path.join(cwd, 'locked'), 0o755);
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('--overwrite writes into a non-empty folder: template files replaced, others kept', async () => {
  const t = await create([]);
  try {
    mkdirSync(path.join(t.cwd, 'my-app'));
    writeFileSync(path.join(t.cwd, 'my-app/README.md'), 'mine\n');
    writeFileSync(path.join(t.cwd, 'my-app/notes.txt'), 'keep me\n');
    assert.is(await t.run(['my-app', '--overwrite', ...OFFLINE]), 0, t.output());
    assert.match(t.read('my-app/README.md'), '# my-app');
    assert.is(t.read('my-app/notes.txt'), 'keep me\n');
    assert.equal(filesUnder(path.join(t.cwd, 'my-app')), [...EXPECTED_FILES, 'notes.txt'].sort());
  } finally {
    t.remove();
  }
});

test('without a TTY it asks nothing, even without --yes, and takes the name from the folder', async () => {
  const prompt = (() => {
    throw new Error('prompted without a TTY');
  }) as unknown as typeof prompts;
  const t = await create(['Billing Service', '--no-install', '--no-git'], { prompt, interactive: false });
  try {
    assert.is(t.code, 0, t.output());
    assert.is(JSON.parse(t.read('Billing Service/package.json')).name, 'billing-service');
    assert.match(t.read('Billing Service/config/development.yaml'), '  kind: Sqlite\n');
  } finally {
    t.remove();
  }
});

/** The real `prompts`, answering the given values in order (an Error is Ctrl-C), recording the questions asked. */
function answering(...values: unknown[]) {
  const asked: string[] = [];
  const prompt = ((question: prompts.PromptObject, options?: prompts.Options) => {
    asked.push(question.name as string);
    return prompts(question, options);
  }) as typeof prompts;
  prompts.inject(values);
  return { asked, prompt };
}

test('in a terminal it asks the name, the mode and the queue, and uses the answers', async () => {
  const { asked, prompt } = answering('reports', 'queue', 'redis');
  const t = await create(['--no-install', '--no-git'], { prompt, interactive: true });
  try {
    assert.is(t.code, 0, t.output());
    assert.equal(asked, ['name', 'background', 'queue']);
    assert.is(JSON.parse(t.read('reports/package.json')).name, 'reports');
    assert.match(t.read('reports/config/development.yaml'), '  kind: Redis\n');
  } finally {
    t.remove();
  }
});

test('flags answer the questions they cover; --bg async asks no queue', async () => {
  const { asked, prompt } = answering('x');
  const t = await create(['app', '--bg', 'async', '--no-install', '--no-git'], { prompt, interactive: true });
  try {
    assert.is(t.code, 0, t.output());
    assert.equal(asked, ['name']);
    assert.is(JSON.parse(t.read('app/package.json')).name, 'x');
  } finally {
    t.remove();
  }
});

test('Ctrl-C at a question: exit 1, nothing written', async () => {
  const { asked, prompt } = answering('my-app', new Error('Ctrl-C'));
  const t = await create(['my-app', '--no-install', '--no-git'], { prompt, interactive: true });
  try {
    assert.is(t.code, 1);
    assert.equal(asked, ['name', 'background']);
    assert.match(t.output(), 'Cancelled; nothing was written.');
    assert.not.ok(existsSync(path.join(t.cwd, 'my-app')));
    assert.equal(t.packed, []);
  } finally {
    t.remove();
  }
});

for (const [argv, message] of [
  [['--bg', 'fast'], '--bg "fast": expected one of async, queue, blocking.'],
  [['--queue', 'mysql'], '--queue "mysql": expected one of sqlite, postgres, redis.'],
  [['--bg', 'async', '--queue', 'redis'], '--queue redis needs --bg queue; --bg async keeps no queue.'],
  [['--name', 'Bad Name'], '--name "Bad Name": start the name with a lower-case letter or a digit.'],
  [['a', 'b'], 'Give one target folder; found 2: a, b.'],
  [['--colour'], "Unknown option '--colour'. The options are listed below.\n\nUsage: create-loco-app"],
  [['--no-instal'], "Unknown option '--no-instal' (did you mean --no-install?). The options are listed below."],
] as const) {
  test(`refuses ${argv.join(' ')} with a reason and the usage`, async () => {
    const t = await create([...argv, ...OFFLINE]);
    try {
      assert.is(t.code, 1);
      assert.match(t.output(), message);
      assert.match(t.output(), 'Usage: create-loco-app [dir] [options]');
      assert.equal(readdirSync(t.cwd), []);
    } finally {
      t.remove();
    }
  });
}

test('--help prints the usage and writes nothing', async () => {
  const t = await create(['--help']);
  try {
    assert.is(t.code, 0);
    assert.match(t.output(), 'Usage: create-loco-app [dir] [options]');
    assert.match(t.output(), '--bg <mode>          Background workers: async | queue | blocking (default: queue)');
    assert.equal(readdirSync(t.cwd), []);
  } finally {
    t.remove();
  }
});

test('prints the next steps for the mode', async () => {
  const queue = await create(['my-app', ...OFFLINE]);
  const async = await create(['my-app', '--bg', 'async', ...OFFLINE]);
  try {
    assert.match(queue.output(), '  cd my-app\n  npm install\n  npm start');
    assert.match(queue.output(), 'npm run worker');
    assert.match(async.output(), 'npm run dev');
    assert.not.match(async.output(), 'npm run worker');
    assert.match(queue.output(), 'npx loco-gen worker report_worker');
    assert.match(queue.output(), 'npx loco-gen task send_report    # then: npx loco task send_report');
  } finally {
    queue.remove();
    async.remove();
  }
});

test('names a target outside the current folder by its absolute path', async () => {
  const elsewhere = mkdtempSync(path.join(tmpdir(), 'create-loco-app-elsewhere-'));
  const t = await create([path.join(elsewhere, 'my-app'), ...OFFLINE]);
  try {
    assert.is(t.code, 0, t.output());
    assert.match(t.output(), `  cd ${path.join(elsewhere, 'my-app')}\n`);
    assert.ok(existsSync(path.join(elsewhere, 'my-app/package.json')));
  } finally {
    t.remove();
    rmSync(elsewhere, { recursive: true, force: true });
  }
});

test.run();
